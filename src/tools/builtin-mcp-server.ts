import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { registerAlertingTools } from './alerting-tools.js';
import type { LokiApi } from './loki-api.js';
import { registerLokiTools } from './loki-tools.js';
import type { PrometheusApi } from './prometheus-api.js';
import { registerPrometheusTools } from './prometheus-tools.js';

function instructions(prometheus: boolean, loki: boolean): string {
  return [
    // datasourceUid is not advertised (it costs tokens on every call) but a call carrying it still works: unknown arguments are dropped.
    'Read-only tools under grafana/mcp-grafana tool names; datasourceUid is accepted and ignored, as there is one backend of each kind.',
    ...(prometheus
      ? [
          'Start with list_firing_alerts, then list_alert_rules for the expressions behind them.',
          'For metrics: list_prometheus_metric_names → list_prometheus_label_values → query_prometheus (a range comes back as one summary line per series).',
        ]
      : []),
    ...(loki ? ['For logs: list_loki_label_names → list_loki_label_values → query_loki_logs (identical lines are folded with a count).'] : []),
  ].join(' ');
}

/** Responder's own MCP server; offers only the tools whose backend is configured. */
export function createBuiltinMcpServer(options: { prometheus: PrometheusApi | null; loki: LokiApi | null; version: string }): McpServer {
  const server = new McpServer({ name: 'responder', version: options.version }, { instructions: instructions(options.prometheus !== null, options.loki !== null) });
  if (options.prometheus) {
    registerAlertingTools(server, options.prometheus);
    registerPrometheusTools(server, options.prometheus);
  }
  if (options.loki) registerLokiTools(server, options.loki);
  return server;
}

/** Serves on this process' stdin/stdout; resolves once connected, and the server lives as long as stdin does. */
export async function serveBuiltinMcpOverStdio(server: McpServer): Promise<void> {
  await server.connect(new StdioServerTransport());
}

export interface McpHttpServer {
  /** http://host:port/mcp */
  url: string;
  close(): Promise<void>;
}

export interface McpHttpServerOptions {
  /** Called once per request: in stateless mode nothing is shared between requests. */
  createServer: () => McpServer;
  host: string;
  /** 0 picks a free port; `url` tells which. */
  port: number;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  bearerToken?: string;
}

const MCP_PATH = '/mcp';

function sendJsonRpcError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

// Hashing both sides first gives equal lengths, so the comparison takes the same time for any guess.
function tokenMatches(header: string | undefined, expected: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return given.length > 0 && timingSafeEqual(digest(given), digest(expected));
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

async function handleMcpPost(request: IncomingMessage, response: ServerResponse, createServer: () => McpServer): Promise<void> {
  const server = createServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response);
}

/**
 * The built-in server over streamable HTTP at /mcp, stateless as in the SDK's example: a new server and
 * transport per POST, so any replica can answer any request. GET (a standalone event stream) and DELETE
 * (ending a session) have no meaning without sessions and answer 405.
 */
export async function startBuiltinMcpHttpServer(options: McpHttpServerOptions): Promise<McpHttpServer> {
  const httpServer = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_PATH) return sendJsonRpcError(response, 404, `not found; the MCP endpoint is ${MCP_PATH}`);
    if (options.bearerToken !== undefined && !tokenMatches(request.headers.authorization, options.bearerToken)) {
      return sendJsonRpcError(response, 401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
    }
    if (request.method !== 'POST') return sendJsonRpcError(response, 405, 'method not allowed: this server is stateless and answers POST only', { allow: 'POST' });
    handleMcpPost(request, response, options.createServer).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy(error as Error);
        return;
      }
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: `internal error: ${(error as Error).message}` }, id: null }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address();
  const port = address !== null && typeof address === 'object' ? address.port : options.port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost(options.host)}:${port}${MCP_PATH}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        httpServer.closeAllConnections();
        httpServer.close((error) => (error ? reject(error) : resolve()));
      });
      return closing;
    },
  };
}
