import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { linkMcpClient } from '../../test/support/link-mcp-client.js';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAlertingTools } from './alerting-tools.js';
import type { PrometheusAlert, PrometheusApi, PrometheusRule } from './prometheus-api.js';

const clients: Client[] = [];

const alerts: PrometheusAlert[] = [
  { labels: { alertname: 'HighLoad', instance: 'web1', job: 'node', severity: 'warning' }, annotations: { summary: 'load above 4' }, state: 'firing', activeAt: '2024-05-01T10:05:00.123456Z', value: '6.5e+00' },
  { labels: { alertname: 'DiskFull', instance: 'db1', job: 'node' }, annotations: { description: 'disk /var at 97%\nsoon full' }, state: 'firing', activeAt: '2024-05-01T10:00:00Z', value: '97' },
  { labels: { alertname: 'HighLatency', instance: 'web1', job: 'api' }, annotations: {}, state: 'pending', activeAt: '2024-05-01T10:10:00Z', value: '0.9' },
];

const rules: PrometheusRule[] = [
  { group: 'node', name: 'DiskFull', type: 'alerting', query: 'disk_used_ratio > 0.95', state: 'firing', health: 'ok', labels: { severity: 'critical' }, annotations: { summary: 'disk almost full' }, alerts: [alerts[1]!] },
  { group: 'node', name: 'AnInactiveRule', type: 'alerting', query: 'up == 0', state: 'inactive', health: 'ok', labels: { severity: 'critical' }, annotations: {}, alerts: [] },
  { group: 'node', name: 'HighLoad', type: 'alerting', query: 'node_load1 > 4', state: 'firing', health: 'ok', labels: { severity: 'warning' }, annotations: {}, alerts: [alerts[0]!] },
  { group: 'rec', name: 'job:up:sum', type: 'recording', query: 'sum by (job) (up)', health: 'ok', labels: {}, annotations: {}, alerts: [] },
];

async function connect(): Promise<Client> {
  const api: PrometheusApi = {
    url: 'http://prometheus',
    instant: () => Promise.reject(new Error('unused')),
    range: () => Promise.reject(new Error('unused')),
    labelValues: () => Promise.reject(new Error('unused')),
    labelNames: () => Promise.reject(new Error('unused')),
    rules: async () => ({ data: rules, rawBytes: 5000 }),
    alerts: async () => ({ data: alerts, rawBytes: 3000 }),
  };
  const server = new McpServer({ name: 'test', version: '1' });
  registerAlertingTools(server, api);
  const client = await linkMcpClient(server);
  clients.push(client);
  return client;
}

async function text(name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await (await connect()).callTool({ name, arguments: args });
  expect(result.isError).toBeFalsy();
  expect(result._meta?.['responder/rawBytes']).toBeGreaterThan(0);
  return (result.content as { text: string }[])[0]!.text;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('list_firing_alerts', () => {
  it('lists firing alerts oldest first, one line each, and counts the pending ones', async () => {
    expect(await text('list_firing_alerts')).toBe(
      [
        '2 firing alerts (1 pending not listed; includePending=true shows them)',
        'DiskFull firing since 2024-05-01T10:00:00Z value=97 {instance="db1",job="node"} — disk /var at 97% soon full',
        'HighLoad firing since 2024-05-01T10:05:00Z value=6.5 {instance="web1",job="node",severity="warning"} — load above 4',
      ].join('\n'),
    );
  });

  it('keeps alerts on the same instance, pending ones too when asked', async () => {
    expect(await text('list_firing_alerts', { matchLabels: { instance: 'web1' }, includePending: true })).toBe(
      [
        '2 firing or pending alerts matching {instance="web1"}',
        'HighLoad firing since 2024-05-01T10:05:00Z value=6.5 {instance="web1",job="node",severity="warning"} — load above 4',
        'HighLatency pending since 2024-05-01T10:10:00Z value=0.9 {instance="web1",job="api"}',
      ].join('\n'),
    );
  });
});

describe('list_alert_rules', () => {
  it('lists alerting rules firing first with their expressions, leaving recording rules out', async () => {
    expect(await text('list_alert_rules')).toBe(
      [
        '3 alerting rules (2 firing, 1 inactive)',
        '[firing] DiskFull (group node, health ok, 1 active alert) expr: disk_used_ratio > 0.95 labels {severity="critical"} — disk almost full',
        '[firing] HighLoad (group node, health ok, 1 active alert) expr: node_load1 > 4 labels {severity="warning"}',
        '[inactive] AnInactiveRule (group node, health ok) expr: up == 0 labels {severity="critical"}',
      ].join('\n'),
    );
  });

  it("filters with mcp-grafana's selectors, bare matchers, and the rule name as alertname", async () => {
    const critical = await text('list_alert_rules', { label_selectors: [{ filters: [{ name: 'severity', type: '=', value: 'critical' }] }] });
    expect(critical.split('\n').slice(1).map((l) => l.split(' ')[1])).toEqual(['DiskFull', 'AnInactiveRule']);
    const byName = await text('list_alert_rules', { label_selectors: [{ name: 'alertname', type: '=~', value: 'High.*' }] });
    expect(byName.split('\n')[0]).toBe('1 alerting rules (1 firing)');
  });

  it('pages', async () => {
    const page = await text('list_alert_rules', { limit: 2, page: 2 });
    expect(page.split('\n')).toEqual(['3 alerting rules (2 firing, 1 inactive); page 2 of 2', expect.stringContaining('AnInactiveRule')]);
  });
});
