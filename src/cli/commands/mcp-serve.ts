import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createBuiltinMcpServer, serveBuiltinMcpOverStdio, startBuiltinMcpHttpServer } from '../../tools/builtin-mcp-server.js';
import { createLokiApi } from '../../tools/loki-api.js';
import { createPrometheusApi } from '../../tools/prometheus-api.js';
import { RESPONDER_VERSION } from '../../version.js';
import { commandGroup, type CliContext } from '../cli-context.js';

export function registerMcpServeCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'mcp')
    .command('serve')
    .description('serve the built-in read-only tools to any MCP client, using prometheus.url and loki.url from the config')
    .option('--transport <transport>', 'stdio or http (streamable HTTP at /mcp)', 'stdio')
    .option('--host <host>', 'http: bind address (default: mcp.serve.host)')
    .option('--port <port>', 'http: port (default: mcp.serve.port)')
    .action(async (options: { transport: string; host?: string; port?: string }) => {
      const config = loadConfig({ file: cli.configFile() });
      if (options.transport !== 'stdio' && options.transport !== 'http') {
        console.error(`--transport must be stdio or http, not ${options.transport}`);
        process.exitCode = 2;
        return;
      }
      const prometheus = config.prometheus.url ? createPrometheusApi({ url: config.prometheus.url, timeoutMs: config.prometheus.timeoutMs }) : null;
      const loki = config.loki.url ? createLokiApi({ url: config.loki.url, timeoutMs: config.loki.timeoutMs, tenantId: config.loki.tenantId }) : null;
      if (!prometheus && !loki) {
        console.error('neither prometheus.url nor loki.url is configured; the built-in MCP server would offer no tools');
        process.exitCode = 2;
        return;
      }
      const create = () => createBuiltinMcpServer({ prometheus, loki, version: RESPONDER_VERSION });
      if (options.transport === 'stdio') {
        cli.keepRunning();
        // stdout carries the protocol; anything human goes to stderr.
        await serveBuiltinMcpOverStdio(create());
        console.error(`responder MCP server on stdio (prometheus: ${prometheus?.url ?? 'none'}, loki: ${loki?.url ?? 'none'})`);
        return;
      }
      const port = options.port === undefined ? config.mcp.serve.port : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        console.error(`--port must be a port number, not ${options.port}`);
        process.exitCode = 2;
        return;
      }
      const host = options.host ?? config.mcp.serve.host;
      if (!config.mcp.serve.bearerToken && !['127.0.0.1', '::1', 'localhost'].includes(host)) {
        console.error(`warning: serving on ${host} without mcp.serve.bearerToken; anyone who reaches the port can query Prometheus and Loki through it`);
      }
      cli.keepRunning();
      const server = await startBuiltinMcpHttpServer({ createServer: create, host, port, bearerToken: config.mcp.serve.bearerToken });
      console.log(`responder MCP server listening at ${server.url}${config.mcp.serve.bearerToken ? ' (bearer token required)' : ''}`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
