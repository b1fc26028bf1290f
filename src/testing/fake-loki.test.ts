import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLoki, type FakeLoki } from './fake-loki.js';

interface StreamsResponse {
  status: string;
  data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
}

const base = Date.UTC(2030, 0, 1, 12, 0, 0);
const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

describe('fake Loki', () => {
  let loki: FakeLoki;

  beforeAll(async () => {
    loki = await startFakeLoki();
    loki.push({ job: 'nginx', host: 'web-1' }, [
      { at: base + 1_000, line: 'GET /health 200' },
      { at: base + 2_000, line: 'ERROR upstream timed out' },
      { at: base + 3_000, line: 'error: disk full on /var/log' },
    ]);
    loki.push({ job: 'nginx', host: 'web-2' }, [
      { at: base + 1_500, line: 'GET /health 200' },
      { at: base + 2_500, line: 'ERROR connection refused' },
    ]);
    loki.push({ job: 'postgres', host: 'db-1' }, [{ at: base + 2_000, line: 'FATAL too many connections' }]);
  });
  afterAll(async () => {
    await loki.close();
  });

  async function queryRange(params: Record<string, string>): Promise<StreamsResponse> {
    const response = await fetch(`${loki.url}/loki/api/v1/query_range?${new URLSearchParams({ start: ns(base), end: ns(base + 60_000), ...params })}`);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as StreamsResponse;
  }

  const lines = (body: StreamsResponse) => body.data.result.flatMap((stream) => stream.values.map(([, line]) => line));

  it('is ready', async () => {
    const response = await fetch(`${loki.url}/ready`);
    expect(response.status).toBe(200);
    expect((await response.text()).trim()).toBe('ready');
  });

  it('selects streams by label and filters lines', async () => {
    const body = await queryRange({ query: '{job="nginx", host=~"web-.*"} |= "ERROR" != "refused"' });

    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('streams');
    expect(body.data.result).toEqual([{ stream: { job: 'nginx', host: 'web-1' }, values: [[ns(base + 2_000), 'ERROR upstream timed out']] }]);
  });

  it('anchors label regexes and supports negative matchers', async () => {
    expect(lines(await queryRange({ query: '{host=~"web"}' }))).toEqual([]);
    const body = await queryRange({ query: '{job=~"nginx|postgres", host!="web-1", host!~"db-.*"}' });
    expect(body.data.result.map((stream) => stream.stream.host)).toEqual(['web-2']);
  });

  it('matches case-insensitively with a (?i) regex', async () => {
    const body = await queryRange({ query: '{job="nginx"} |~ "(?i)error" !~ `refused|timed`', direction: 'forward' });
    expect(lines(body)).toEqual(['error: disk full on /var/log']);
  });

  it('applies the limit across streams, newest first by default', async () => {
    const backward = await queryRange({ query: '{job="nginx"}', limit: '2' });
    expect(backward.data.result.flatMap((stream) => stream.values.map(([at]) => at)).sort()).toEqual([ns(base + 2_500), ns(base + 3_000)]);

    const forward = await queryRange({ query: '{job="nginx"}', limit: '3', direction: 'forward' });
    expect(forward.data.result).toEqual([
      { stream: { job: 'nginx', host: 'web-1' }, values: [[ns(base + 1_000), 'GET /health 200'], [ns(base + 2_000), 'ERROR upstream timed out']] },
      { stream: { job: 'nginx', host: 'web-2' }, values: [[ns(base + 1_500), 'GET /health 200']] },
    ]);
  });

  it('orders each stream by direction and reads seconds and RFC3339 times', async () => {
    const body = await queryRange({
      query: '{host="web-1"}',
      start: ((base + 1_500) / 1000).toFixed(3),
      end: new Date(base + 3_000).toISOString(),
    });
    // The end is exclusive, as in Loki.
    expect(body.data.result[0]?.values).toEqual([[ns(base + 2_000), 'ERROR upstream timed out']]);

    const all = await queryRange({ query: '{host="web-1"}' });
    expect(all.data.result[0]?.values.map(([at]) => at)).toEqual([ns(base + 3_000), ns(base + 2_000), ns(base + 1_000)]);
  });

  it('answers a form-encoded POST query', async () => {
    const response = await fetch(`${loki.url}/loki/api/v1/query_range`, {
      method: 'POST',
      body: new URLSearchParams({ query: '{job="postgres"}', start: ns(base), end: ns(base + 60_000) }),
    });
    expect(lines((await response.json()) as StreamsResponse)).toEqual(['FATAL too many connections']);
  });

  it('lists label names and values', async () => {
    const window = new URLSearchParams({ start: ns(base), end: ns(base + 60_000) });
    const names = await fetch(`${loki.url}/loki/api/v1/labels?${window}`);
    expect(await names.json()).toEqual({ status: 'success', data: ['host', 'job'] });

    const hosts = await fetch(`${loki.url}/loki/api/v1/label/host/values?${window}&query=${encodeURIComponent('{job="nginx"}')}`);
    expect(await hosts.json()).toEqual({ status: 'success', data: ['web-1', 'web-2'] });

    // Without a window Loki looks at the last six hours, which holds none of these lines.
    expect(await (await fetch(`${loki.url}/loki/api/v1/labels`)).json()).toEqual({ status: 'success', data: [] });
  });

  it.each([
    ['sum(rate({job="nginx"}[5m]))', 'metric queries (sum)'],
    ['count_over_time({job="nginx"}[5m])', 'metric queries (count_over_time)'],
    ['{job="nginx"} | json', '"| json"'],
    ['{job="nginx"} |= "a" or "b"', '"or"'],
    ['{job=~".*"}', 'at least one regexp or equality matcher'],
    ['{job="nginx"', 'parse error at line 1'],
  ])('rejects %s with a parse error', async (query, fragment) => {
    const response = await fetch(`${loki.url}/loki/api/v1/query_range?${new URLSearchParams({ query })}`);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toMatch(/^parse error/);
    expect(text).toContain(fragment);
  });

  it('stores a JSON push and ignores an identical retry', async () => {
    const at = ns(base + 10_000);
    const push = () =>
      fetch(`${loki.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ streams: [{ stream: { job: 'pushed' }, values: [[at, 'via http']] }] }),
      });
    expect((await push()).status).toBe(204);
    expect((await push()).status).toBe(204);

    expect(loki.streams().find((stream) => stream.stream.job === 'pushed')?.values).toEqual([[at, 'via http']]);
    expect(lines(await queryRange({ query: '{job="pushed"}' }))).toEqual(['via http']);
  });

  it.each([
    ['not JSON', '{"streams":', 'application/json', 400],
    ['a number timestamp', JSON.stringify({ streams: [{ stream: { job: 'x' }, values: [[1, 'line']] }] }), 'application/json', 400],
    ['no labels', JSON.stringify({ streams: [{ stream: {}, values: [] }] }), 'application/json', 400],
    ['protobuf', 'binary', 'application/x-protobuf', 415],
  ])('refuses a push of %s', async (_case, body, contentType, status) => {
    const response = await fetch(`${loki.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(status === 415 ? /only JSON push/ : /^error/);
  });
});

describe('fake Loki as a push target', () => {
  const push = (url: string, values: unknown[], stream: Record<string, string> = { service_name: 'responder' }) =>
    fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams: [{ stream, values }] }) });
  const now = () => (BigInt(Date.now()) * 1_000_000n).toString();

  it('keeps structured metadata with each entry', async () => {
    const loki = await startFakeLoki();
    try {
      const at = now();
      expect((await push(loki.url, [[at, 'with metadata', { seq: '7', incident_id: 'abc' }], [at, 'without']])).status).toBe(204);
      expect(loki.entries()).toEqual([
        { stream: { service_name: 'responder' }, ns: at, line: 'with metadata', metadata: { seq: '7', incident_id: 'abc' } },
        { stream: { service_name: 'responder' }, ns: at, line: 'without', metadata: {} },
      ]);
      expect((await push(loki.url, [[at, 'bad metadata', { seq: 7 }]])).status).toBe(400);
    } finally {
      await loki.close();
    }
  });

  it('answers every request with the outage status until it is lifted', async () => {
    const loki = await startFakeLoki();
    try {
      loki.setOutage(503);
      expect((await push(loki.url, [[now(), 'lost?']])).status).toBe(503);
      expect((await fetch(`${loki.url}/ready`)).status).toBe(503);
      loki.setOutage(null);
      expect((await push(loki.url, [[now(), 'kept']])).status).toBe(204);
      expect(loki.entries().map((e) => e.line)).toEqual(['kept']);
    } finally {
      await loki.close();
    }
  });

  it('drops entries older than rejectOlderThanMs with a 400 naming them, and stores the rest of the push', async () => {
    const loki = await startFakeLoki({ rejectOlderThanMs: 60_000 });
    try {
      const old = (BigInt(Date.now() - 3_600_000) * 1_000_000n).toString();
      const response = await push(loki.url, [[old, 'too old'], [now(), 'fresh']]);
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/has timestamp too old/);
      expect(loki.entries().map((e) => e.line)).toEqual(['fresh']);
    } finally {
      await loki.close();
    }
  });

  it('refuses structured metadata when it is switched off, as Loki does', async () => {
    const loki = await startFakeLoki({ structuredMetadata: false });
    try {
      const response = await push(loki.url, [[now(), 'line', { seq: '1' }]]);
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/includes structured metadata, but this feature is disallowed/);
      expect((await push(loki.url, [[now(), 'line']])).status).toBe(204);
    } finally {
      await loki.close();
    }
  });
});
