import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { linkMcpClient } from '../../test/support/link-mcp-client.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResponderError } from '../domain/errors.js';
import type { LokiApi } from './loki-api.js';
import { registerLokiTools } from './loki-tools.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const clients: Client[] = [];

async function connect(api: Partial<LokiApi>): Promise<Client> {
  const server = new McpServer({ name: 'test', version: '1' });
  const fail = () => Promise.reject(new Error('not stubbed'));
  registerLokiTools(server, { url: 'http://loki', queryRange: fail, labels: fail, labelValues: fail, ...api }, { now: () => NOW });
  const client = await linkMcpClient(server);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean }> {
  const result = await client.callTool({ name, arguments: args });
  return { text: (result.content as { text: string }[])[0]!.text, isError: result.isError === true };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('query_loki_logs', () => {
  it('asks for the newest 10 lines of the last hour by default', async () => {
    const queryRange = vi.fn<LokiApi['queryRange']>().mockResolvedValue({ data: [], rawBytes: 70 });
    const result = await call(await connect({ queryRange }), 'query_loki_logs', { logql: '{app="web"}' });
    expect(queryRange).toHaveBeenCalledWith('{app="web"}', { start: new Date('2024-05-01T11:00:00Z'), end: NOW, limit: 10, direction: 'backward' });
    expect(result.text).toMatch(/^No log lines matched \{app="web"\} between .*list_loki_label_names/);
  });

  it('caps the limit at 100 and says when the limit was reached', async () => {
    const values = Array.from({ length: 100 }, (_, i): [string, string] => [`${BigInt(NOW.getTime() - i * 1000) * 1_000_000n}`, 'same line']);
    const queryRange = vi.fn<LokiApi['queryRange']>().mockResolvedValue({ data: [{ stream: { app: 'web' }, values }], rawBytes: 9000 });
    const { text } = await call(await connect({ queryRange }), 'query_loki_logs', { logql: '{app="web"}', limit: 5000, direction: 'forward', startRfc3339: 'now-2h' });
    expect(queryRange.mock.calls[0]![1]).toMatchObject({ limit: 100, direction: 'forward', start: new Date('2024-05-01T10:00:00Z') });
    expect(text).toContain('100× ');
    expect(text).toMatch(/\(limit of 100 lines reached: there are likely more; narrow the filters or the range\)$/);
  });

  it("returns Loki's parse error with a hint as a tool error", async () => {
    const queryRange = vi.fn<LokiApi['queryRange']>().mockRejectedValue(new ResponderError('loki_query_failed', 'Loki rejected the request (HTTP 400): parse error at line 1, col 1: syntax error'));
    const result = await call(await connect({ queryRange }), 'query_loki_logs', { logql: 'app=web' });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^Loki rejected the request \(HTTP 400\): parse error at line 1, col 1: syntax error\nHint: Fix the LogQL/);
  });
});

describe('list_loki_label_names and list_loki_label_values', () => {
  it('lists names and values over the last hour by default', async () => {
    const labels = vi.fn<LokiApi['labels']>().mockResolvedValue({ data: ['app', 'host'], rawBytes: 40 });
    const labelValues = vi.fn<LokiApi['labelValues']>().mockResolvedValue({ data: ['web1', 'web2'], rawBytes: 40 });
    const client = await connect({ labels, labelValues });
    expect((await call(client, 'list_loki_label_names', {})).text).toBe('2 label names:\napp\nhost');
    expect((await call(client, 'list_loki_label_values', { labelName: 'host', endRfc3339: '2024-05-01T11:00:00Z' })).text).toBe('2 values of label "host":\nweb1\nweb2');
    expect(labels).toHaveBeenCalledWith({ start: new Date('2024-05-01T11:00:00Z'), end: NOW });
    expect(labelValues).toHaveBeenCalledWith('host', { start: new Date('2024-05-01T10:00:00Z'), end: new Date('2024-05-01T11:00:00Z') });
  });
});
