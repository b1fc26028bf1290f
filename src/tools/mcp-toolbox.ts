import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerConfig } from '../config/config.schema.js';
import { capToolResult } from './cap-tool-result.js';
import { RAW_BYTES_META } from './tool-result.js';

/** One MCP server the agent may draw tools from. */
export interface ToolSource {
  name: string;
  /** Tool names allowed through; empty means all. Read-only is required either way. */
  allow: readonly string[];
  timeoutMs: number;
  connect(): Promise<{ transport: Transport; close?: () => Promise<void> }>;
}

export interface ToolDescriptor {
  /** The name the model calls: the server's own, or `<server>__<name>` when two servers offer it. */
  name: string;
  server: string;
  serverToolName: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ToolCallResult {
  text: string;
  isError: boolean;
  /** Bytes the backend answered with, when the server reports them (Responder's built-in server does). */
  rawBytes: number | null;
  /** Bytes of the result before the size cap. */
  bytes: number;
  truncated: boolean;
}

export interface Toolbox {
  tools: readonly ToolDescriptor[];
  /** Tools a server offered that the model will not see, and why. */
  withheld: readonly { server: string; tool: string; reason: string }[];
  /** Servers that could not be reached; the investigation goes on without them. */
  unavailable: readonly { server: string; error: string }[];
  call(name: string, input: unknown, signal?: AbortSignal): Promise<ToolCallResult>;
  close(): Promise<void>;
}


/** Responder's own server's tools offered by default: the two queries; label and metadata tools on request. */
export const DEFAULT_BUILTIN_TOOLS: readonly string[] = ['query_prometheus', 'query_loki_logs'];

/** What an in-process source needs of a server: the high-level McpServer or the SDK's low-level Server. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

export function inProcessSource(name: string, createServer: () => ConnectableServer, options: { allow?: readonly string[]; timeoutMs?: number } = {}): ToolSource {
  return {
    name,
    allow: options.allow ?? [],
    timeoutMs: options.timeoutMs ?? 30_000,
    async connect() {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const server = createServer();
      await server.connect(serverSide);
      return { transport: clientSide, close: () => server.close() };
    },
  };
}

function withHeaders(headers: Record<string, string>): typeof fetch {
  return (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [key, value] of Object.entries(headers)) merged.set(key, value);
    return fetch(input, { ...init, headers: merged });
  };
}

export interface ConfiguredSourceOptions {
  /**
   * The environment a stdio server inherits (src/config's inheritedEnvironment()), its configured `env`
   * laid over it; without it the server gets its configured `env` only.
   */
  inheritedEnv?: Record<string, string>;
}

/** A configured external server (e.g. grafana/mcp-grafana) over stdio, SSE or streamable HTTP. */
export function configuredSource(config: McpServerConfig, options: ConfiguredSourceOptions = {}): ToolSource {
  const headers = { ...config.headers, ...(config.bearerToken ? { authorization: `Bearer ${config.bearerToken}` } : {}) };
  return {
    name: config.name,
    allow: config.tools,
    timeoutMs: config.timeoutMs,
    async connect() {
      if (config.transport === 'stdio') {
        const env = { ...options.inheritedEnv, ...config.env };
        return { transport: new StdioClientTransport({ command: config.command!, args: config.args, env, stderr: 'pipe' }) };
      }
      const url = new URL(config.url!);
      if (config.transport === 'sse') return { transport: new SSEClientTransport(url, { fetch: withHeaders(headers) }) };
      return { transport: new StreamableHTTPClientTransport(url, { fetch: withHeaders(headers) }) };
    },
  };
}

interface Connected {
  source: ToolSource;
  client: Client;
  close?: () => Promise<void>;
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: string; text?: string }) => (part.type === 'text' ? (part.text ?? '') : `[${part.type ?? 'unknown'} content omitted]`))
    .join('\n');
}

/**
 * Connects to every source, lists its tools and keeps only those the model may use: marked read-only
 * by their server and, when the source has an allow-list, named on it. The model never holds a write tool.
 */
export async function openToolbox(sources: readonly ToolSource[], options: { resultMaxBytes: number }): Promise<Toolbox> {
  const connected: Connected[] = [];
  const unavailable: { server: string; error: string }[] = [];
  const withheld: { server: string; tool: string; reason: string }[] = [];
  const offered: { source: Connected; tool: { name: string; description?: string; inputSchema: Record<string, unknown> } }[] = [];

  // Connected side by side: one slow server must not hold up the others.
  const listed = await Promise.all(
    sources.map(async (source) => {
      try {
        const { transport, close } = await source.connect();
        const client = new Client({ name: 'responder', version: '1' });
        await client.connect(transport, { timeout: source.timeoutMs });
        const entry: Connected = { source, client, close };
        connected.push(entry);
        const { tools } = await client.listTools(undefined, { timeout: source.timeoutMs });
        return { entry, tools };
      } catch (error) {
        unavailable.push({ server: source.name, error: (error as Error).message });
        return null;
      }
    }),
  );
  for (const found of listed) {
    if (!found) continue;
    const { entry, tools } = found;
    for (const tool of tools) {
      if (tool.annotations?.readOnlyHint !== true) withheld.push({ server: entry.source.name, tool: tool.name, reason: 'not marked read-only' });
      else if (entry.source.allow.length > 0 && !entry.source.allow.includes(tool.name)) withheld.push({ server: entry.source.name, tool: tool.name, reason: 'not on the allow-list' });
      else offered.push({ source: entry, tool: { name: tool.name, description: tool.description, inputSchema: tool.inputSchema as Record<string, unknown> } });
    }
  }

  const counts = new Map<string, number>();
  for (const { tool } of offered) counts.set(tool.name, (counts.get(tool.name) ?? 0) + 1);
  const byName = new Map<string, { entry: Connected; descriptor: ToolDescriptor }>();
  for (const { source, tool } of offered) {
    const name = (counts.get(tool.name) ?? 0) > 1 ? `${source.source.name}__${tool.name}` : tool.name;
    byName.set(name, {
      entry: source,
      descriptor: { name, server: source.source.name, serverToolName: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema },
    });
  }

  return {
    tools: [...byName.values()].map((t) => t.descriptor),
    withheld,
    unavailable,
    async call(name, input, signal) {
      const found = byName.get(name);
      if (!found) return { text: `unknown tool "${name}"; available: ${[...byName.keys()].join(', ')}`, isError: true, rawBytes: null, bytes: 0, truncated: false };
      try {
        const result = await found.entry.client.callTool(
          { name: found.descriptor.serverToolName, arguments: (input ?? {}) as Record<string, unknown> },
          undefined,
          { timeout: found.entry.source.timeoutMs, ...(signal ? { signal } : {}) },
        );
        const text = textOf(result.content);
        const capped = capToolResult(text, options.resultMaxBytes);
        const raw = (result._meta as Record<string, unknown> | undefined)?.[RAW_BYTES_META];
        return { text: capped.text, isError: result.isError === true, rawBytes: typeof raw === 'number' ? raw : null, bytes: capped.bytes, truncated: capped.truncated };
      } catch (error) {
        return { text: `tool ${name} failed: ${(error as Error).message}`, isError: true, rawBytes: null, bytes: 0, truncated: false };
      }
    },
    async close() {
      for (const entry of connected) {
        await entry.client.close().catch(() => undefined);
        await entry.close?.().catch(() => undefined);
      }
    },
  };
}
