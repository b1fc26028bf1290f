import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { linkMcpClient } from '../../test/support/link-mcp-client.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResponderError } from '../domain/errors.js';
import type { PrometheusApi, RangeSeries } from './prometheus-api.js';
import { registerPrometheusTools } from './prometheus-tools.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const clients: Client[] = [];

function stubApi(overrides: Partial<PrometheusApi> = {}): PrometheusApi {
  const fail = () => Promise.reject(new Error('not stubbed'));
  return { url: 'http://prometheus', instant: fail, range: fail, labelValues: fail, labelNames: fail, rules: fail, alerts: fail, ...overrides };
}

async function connect(api: PrometheusApi, options: { maxSeries?: number } = {}): Promise<Client> {
  const server = new McpServer({ name: 'test', version: '1' });
  registerPrometheusTools(server, api, { ...options, now: () => NOW });
  const client = await linkMcpClient(server);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; rawBytes: unknown }> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  return { text: content.map((c) => c.text).join('\n'), isError: result.isError === true, rawBytes: result._meta?.['responder/rawBytes'] };
}

function hourOf(value: number, metric: Record<string, string>): RangeSeries {
  return { metric, values: Array.from({ length: 61 }, (_, i): [number, string] => [NOW.getTime() / 1000 - 3600 + i * 60, String(value)]) };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('query_prometheus', () => {
  it('defaults to a range over the last hour with 60 steps, and summarises each series', async () => {
    const range = vi.fn<PrometheusApi['range']>().mockResolvedValue({ data: [hourOf(0.5, { instance: 'web1' })], rawBytes: 4321 });
    const result = await call(await connect(stubApi({ range })), 'query_prometheus', { expr: 'up', datasourceUid: 'ignored' });
    expect(range).toHaveBeenCalledWith('up', new Date('2024-05-01T11:00:00Z'), NOW, 60);
    expect(result).toEqual({
      isError: false,
      rawBytes: 4321,
      text: 'range 2024-05-01T11:00:00.000Z → 2024-05-01T12:00:00.000Z, step 60s: 1 series\n{instance="web1"} last=0.5 constant (over 1h, 61 points)',
    });
  });

  it('takes relative and RFC3339 times and never steps below a second', async () => {
    const range = vi.fn<PrometheusApi['range']>().mockResolvedValue({ data: [], rawBytes: 60 });
    const client = await connect(stubApi({ range }));
    await call(client, 'query_prometheus', { expr: 'up', startTime: 'now-30s', endTime: 'now' });
    expect(range).toHaveBeenLastCalledWith('up', new Date('2024-05-01T11:59:30Z'), NOW, 1);
    const result = await call(client, 'query_prometheus', { expr: 'up', startTime: '2024-05-01T09:00:00Z', endTime: 'now-2h', stepSeconds: 15, queryType: 'range' });
    expect(range).toHaveBeenLastCalledWith('up', new Date('2024-05-01T09:00:00Z'), new Date('2024-05-01T10:00:00Z'), 15);
    expect(result.text).toMatch(/0 series\. No data.*list_prometheus_metric_names/);
  });

  it('shows the series with the highest last value when there are too many, and counts the rest', async () => {
    const data = Array.from({ length: 25 }, (_, i) => hourOf(i, { instance: `host${i}` }));
    const range = vi.fn<PrometheusApi['range']>().mockResolvedValue({ data, rawBytes: 99_999 });
    const { text } = await call(await connect(stubApi({ range }), { maxSeries: 3 }), 'query_prometheus', { expr: 'load1' });
    expect(text.split('\n')).toEqual([
      expect.stringContaining('25 series, showing the 3 with the highest last value'),
      expect.stringMatching(/^\{instance="host24"\} last=24 /),
      expect.stringMatching(/^\{instance="host23"\} last=23 /),
      expect.stringMatching(/^\{instance="host22"\} last=22 /),
      '(22 more series not shown; aggregate with sum by (...) or topk(...), or add label matchers)',
    ]);
  });

  it('runs an instant query at endTime and lists one value per series', async () => {
    const instant = vi.fn<PrometheusApi['instant']>().mockResolvedValue({
      data: [
        { metric: { __name__: 'up', job: 'node' }, value: [NOW.getTime() / 1000 - 600, '1'] },
        { metric: { __name__: 'up', job: 'db' }, value: [NOW.getTime() / 1000 - 600, '0'] },
      ],
      rawBytes: 300,
    });
    const result = await call(await connect(stubApi({ instant })), 'query_prometheus', { expr: 'up', queryType: 'instant', endTime: 'now-10m' });
    expect(instant).toHaveBeenCalledWith('up', new Date('2024-05-01T11:50:00Z'));
    expect(result.text).toBe('2 series at 2024-05-01T11:50:00.000Z\nup{job="node"} 1\nup{job="db"} 0');
  });

  it("returns Prometheus' own error text with a hint, as a tool error", async () => {
    const range = vi.fn<PrometheusApi['range']>().mockRejectedValue(new ResponderError('prometheus_query_failed', 'Prometheus rejected the request: bad_data: 1:4: parse error: unexpected end of input'));
    const result = await call(await connect(stubApi({ range })), 'query_prometheus', { expr: 'up{' });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^Prometheus rejected the request: bad_data: 1:4: parse error: unexpected end of input\nHint: Fix the PromQL/);
  });

  it('refuses an unreadable time without calling Prometheus', async () => {
    const range = vi.fn<PrometheusApi['range']>();
    const result = await call(await connect(stubApi({ range })), 'query_prometheus', { expr: 'up', startTime: 'yesterday' });
    expect(result).toMatchObject({ isError: true, text: expect.stringContaining(`cannot read the time "yesterday"`) });
    expect(range).not.toHaveBeenCalled();
  });
});

describe('list_prometheus_metric_names', () => {
  const names = ['node_cpu_seconds_total', 'node_load1', 'node_memory_MemAvailable_bytes', 'up', 'http_requests_total'];
  const labelValues = vi.fn<PrometheusApi['labelValues']>().mockResolvedValue({ data: names, rawBytes: 200 });

  it('filters by regex and pages', async () => {
    const client = await connect(stubApi({ labelValues }));
    expect((await call(client, 'list_prometheus_metric_names', { regex: '^node_', limit: 2 })).text).toBe(
      '3 metric names matching /^node_/; page 1 of 2\nnode_cpu_seconds_total\nnode_load1\n(next: page=2)',
    );
    expect((await call(client, 'list_prometheus_metric_names', { regex: '^node_', limit: 2, page: 2 })).text).toBe('3 metric names matching /^node_/; page 2 of 2\nnode_memory_MemAvailable_bytes');
    expect(labelValues).toHaveBeenCalledWith('__name__', {});
  });

  it('defaults to 10 a page and reports a bad regex as a tool error', async () => {
    const client = await connect(stubApi({ labelValues }));
    expect((await call(client, 'list_prometheus_metric_names', {})).text.split('\n')).toHaveLength(6);
    expect(await call(client, 'list_prometheus_metric_names', { regex: '(' })).toMatchObject({ isError: true, text: expect.stringMatching(/regex "\(" is invalid/) });
  });
});

describe('list_prometheus_label_values and list_prometheus_label_names', () => {
  it('passes selectors written as PromQL or as mcp-grafana matchers', async () => {
    const labelValues = vi.fn<PrometheusApi['labelValues']>().mockResolvedValue({ data: ['web1:9100', 'web2:9100'], rawBytes: 80 });
    const result = await call(await connect(stubApi({ labelValues })), 'list_prometheus_label_values', {
      labelName: 'instance',
      matches: ['up{job="node"}', { filters: [{ name: 'job', type: '=~', value: 'no.*' }] }, { name: 'env', value: 'prod' }],
      startRfc3339: 'now-6h',
    });
    expect(labelValues).toHaveBeenCalledWith('instance', { match: ['up{job="node"}', '{job=~"no.*"}', '{env="prod"}'], start: new Date('2024-05-01T06:00:00Z') });
    expect(result.text).toBe('values of label "instance": 2\nweb1:9100\nweb2:9100');
  });

  it('limits the label names listed', async () => {
    const labelNames = vi.fn<PrometheusApi['labelNames']>().mockResolvedValue({ data: ['__name__', 'instance', 'job'], rawBytes: 50 });
    const { text } = await call(await connect(stubApi({ labelNames })), 'list_prometheus_label_names', { limit: 2 });
    expect(text).toBe('label names: 3, showing 2\n__name__\ninstance\n(1 more names not shown; raise limit or add matches)');
  });
});
