import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlledExporter, type ControlledExporter } from '../../src/eval/controlled-exporter.js';
import { startFakeLoki, type FakeLoki } from '../../src/testing/fake-loki.js';
import { startPrometheus, type RunningServer } from '../support/prometheus.js';
import { createBuiltinMcpServer, startBuiltinMcpHttpServer, type McpHttpServer } from '../../src/tools/builtin-mcp-server.js';
import { createLokiApi } from '../../src/tools/loki-api.js';
import { createPrometheusApi } from '../../src/tools/prometheus-api.js';

const RULES = JSON.stringify({
  groups: [
    {
      name: 'demo',
      interval: '1s',
      rules: [
        { alert: 'DemoDown', expr: 'demo_up == 0', for: '0s', labels: { severity: 'critical' }, annotations: { summary: 'demo service is down' } },
        { alert: 'DemoCpuHigh', expr: 'demo_cpu_ratio > 2', labels: { severity: 'warning' }, annotations: { summary: 'never fires' } },
      ],
    },
  ],
});
const SERIES = 30;
const TOKEN = 'test-token-8f2c';

/** An hour of history, one sample every 15 s: web1 climbs from 0.2 to 0.95, the others hold still. */
function history(nowSeconds: number): string {
  const lines = ['# TYPE demo_cpu_ratio gauge'];
  const end = nowSeconds - 30;
  for (let host = 1; host <= SERIES; host++) {
    for (let i = 0; i <= 240; i++) {
      const value = host === 1 ? 0.2 + (0.75 * i) / 240 : 0.1 + host / 1000;
      lines.push(`demo_cpu_ratio{instance="web${host}",job="demo"} ${value} ${end - 3600 + i * 15}`);
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

interface CallResult {
  text: string;
  isError: boolean;
  rawBytes: number;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const result = await client.callTool({ name, arguments: args });
  const text = (result.content as { type: string; text: string }[]).map((c) => c.text).join('\n');
  return { text, isError: result.isError === true, rawBytes: Number(result._meta?.['responder/rawBytes'] ?? 0) };
}

let exporter: ControlledExporter;
let prometheus: RunningServer;
let loki: FakeLoki;
let http: McpHttpServer;

const createServer = () =>
  createBuiltinMcpServer({
    prometheus: createPrometheusApi({ url: prometheus.url, timeoutMs: 5000 }),
    loki: createLokiApi({ url: loki.url, timeoutMs: 5000 }),
    version: 'test',
  });

async function inMemoryClient(server = createServer()): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(clientSide);
  return client;
}

async function httpClient(token: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

beforeAll(async () => {
  exporter = await startControlledExporter();
  exporter.set('demo_up', 0, { service: 'demo' });
  loki = await startFakeLoki();
  const now = Date.now();
  loki.push({ app: 'web', host: 'web1' }, [
    ...Array.from({ length: 60 }, (_, i) => ({ at: now - 60_000 + i * 1000, line: 'POST /login 401 from 203.0.113.66' })),
    { at: now - 30_500, line: 'GET /health 200' },
  ]);
  loki.push({ app: 'db', host: 'db1' }, [{ at: now - 10_000, line: 'FATAL too many connections' }]);
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], rules: RULES, backfill: history(Math.floor(now / 1000)) });
  http = await startBuiltinMcpHttpServer({ createServer, host: '127.0.0.1', port: 0, bearerToken: TOKEN });
}, 120_000);

afterAll(async () => {
  await http?.close();
  await prometheus?.stop();
  await exporter?.stop();
  await loki?.close();
});

describe.each([
  ['in memory', () => inMemoryClient()],
  ['streamable HTTP with a bearer token', () => httpClient(TOKEN)],
])('built-in MCP server over %s', (_transport, connect) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  it("offers mcp-grafana's tool names, all read-only", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'list_alert_rules',
      'list_firing_alerts',
      'list_loki_label_names',
      'list_loki_label_values',
      'list_prometheus_label_names',
      'list_prometheus_label_values',
      'list_prometheus_metric_names',
      'query_loki_logs',
      'query_prometheus',
    ]);
    for (const tool of tools) {
      expect(tool.title, tool.name).toEqual(expect.any(String));
      expect(tool.annotations, tool.name).toMatchObject({ title: tool.title, readOnlyHint: true, idempotentHint: true });
      expect(tool.description, tool.name).toMatch(/→|Start an investigation here|after list_firing_alerts/);
    }
    const query = tools.find((t) => t.name === 'query_prometheus')!;
    expect(Object.keys(query.inputSchema.properties ?? {})).toEqual(['expr', 'startTime', 'endTime', 'stepSeconds', 'queryType']);
    expect(query.inputSchema.required).toEqual(['expr']);
  });

  it('lists the rule that fires, and the firing alert', async () => {
    let firing: CallResult | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      firing = await call(client, 'list_firing_alerts', { matchLabels: { service: 'demo' } });
      if (firing.text.includes('DemoDown firing')) break;
      await sleep(200);
    }
    expect(firing!.text).toMatch(/^1 firing alert matching \{service="demo"\}\nDemoDown firing since \S+ value=0 \{instance="127\.0\.0\.1:\d+",job="test",service="demo",severity="critical"\} — demo service is down$/);
    const rules = await call(client, 'list_alert_rules', {});
    expect(rules.text.split('\n')).toEqual([
      '2 alerting rules (1 firing, 1 inactive)',
      '[firing] DemoDown (group demo, health ok, 1 active alert) expr: demo_up == 0 labels {severity="critical"} — demo service is down',
      '[inactive] DemoCpuHigh (group demo, health ok) expr: demo_cpu_ratio > 2 labels {severity="warning"} — never fires',
    ]);
  });

  it('summarises a range query instead of returning its points', async () => {
    const result = await call(client, 'query_prometheus', { datasourceUid: 'prometheus', expr: 'demo_cpu_ratio', startTime: 'now-1h', endTime: 'now', stepSeconds: 15 });
    expect(result.isError).toBe(false);
    const lines = result.text.split('\n');
    expect(lines[0]).toMatch(/step 15s: 30 series, showing the 20 with the highest last value$/);
    expect(lines[1]).toMatch(/^demo_cpu_ratio\{instance="web1",job="demo"\} last=0\.95 min=0\.2\d* max=0\.95 mean=0\.5\d* trend=rising \(\+3\d\d% over (59m\d+s|1h), 2\d\d points\)$/);
    expect(lines.at(-1)).toBe('(10 more series not shown; aggregate with sum by (...) or topk(...), or add label matchers)');
    expect(result.text).not.toMatch(/\[\d{10}/);
    expect(result.rawBytes).toBeGreaterThan(20 * Buffer.byteLength(result.text));
  });

  it('answers an instant query with one value per series', async () => {
    const result = await call(client, 'query_prometheus', { expr: 'sum by (service) (demo_up)', queryType: 'instant' });
    expect(result.text).toMatch(/^1 series at \S+\n\{service="demo"\} 0$/);
  });

  it("returns Prometheus' parse error for bad PromQL, as a tool error with a hint", async () => {
    const result = await call(client, 'query_prometheus', { expr: 'rate(demo_cpu_ratio[5m]' });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^Prometheus rejected the request: bad_data: .*parse error: unclosed left parenthesis\nHint: Fix the PromQL/);
  });

  it('finds metric names and label values', async () => {
    expect((await call(client, 'list_prometheus_metric_names', { regex: '^demo_' })).text).toBe('2 metric names matching /^demo_/; page 1 of 1\ndemo_cpu_ratio\ndemo_up');
    const values = await call(client, 'list_prometheus_label_values', { labelName: 'instance', matches: ['demo_cpu_ratio'], limit: 3 });
    expect(values.text).toBe('values of label "instance": 30, showing 3\nweb1\nweb10\nweb11\n(27 more values not shown; raise limit or add matches)');
    const names = await call(client, 'list_prometheus_label_names', { matches: [{ filters: [{ name: '__name__', type: '=', value: 'demo_cpu_ratio' }] }], startRfc3339: 'now-2h' });
    expect(names.text).toBe('label names: 3\n__name__\ninstance\njob');
  });

  it('groups identical log lines under their stream', async () => {
    const result = await call(client, 'query_loki_logs', { logql: '{app=~"web|db"}', startRfc3339: 'now-5m', limit: 100 });
    expect(result.isError).toBe(false);
    const lines = result.text.split('\n');
    expect(lines[0]).toMatch(/: 62 lines in 2 streams, 3 distinct, newest first$/);
    expect(lines).toContainEqual('{app="web",host="web1"} 61 lines');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}60× \S+ … \S+ {2}POST \/login 401 from 203\.0\.113\.66$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}1× \S+ {2}FATAL too many connections$/));
    expect(result.rawBytes).toBeGreaterThan(5 * Buffer.byteLength(result.text));
  });

  it("returns Loki's error for bad LogQL, and lists labels", async () => {
    const bad = await call(client, 'query_loki_logs', { logql: '{app="web"' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/^Loki rejected the request \(HTTP 400\): .*parse error.*\nHint: Fix the LogQL/);
    expect((await call(client, 'list_loki_label_names', {})).text).toBe('2 label names:\napp\nhost');
    expect((await call(client, 'list_loki_label_values', { labelName: 'host' })).text).toBe('2 values of label "host":\ndb1\nweb1');
  });
});

describe('built-in MCP server setup', () => {
  it('offers only the tools whose backend is configured', async () => {
    const client = await inMemoryClient(createBuiltinMcpServer({ prometheus: null, loki: createLokiApi({ url: loki.url, timeoutMs: 5000 }), version: 'test' }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['list_loki_label_names', 'list_loki_label_values', 'query_loki_logs']);
    await client.close();
  });

  it('refuses a wrong or missing bearer token, other paths and stateful methods', async () => {
    await expect(httpClient('wrong-token')).rejects.toThrow(/missing or wrong bearer token/);
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } };
    const post = (headers: Record<string, string>) =>
      fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(initialize) });
    const missing = await post({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(new URL('/other', http.url), { headers: auth })).status).toBe(404);
    expect((await fetch(http.url, { headers: auth })).status).toBe(405);
    expect((await fetch(http.url, { method: 'DELETE', headers: auth })).status).toBe(405);
  });
});
