import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { answerWith, stubHttpServers, type StubHandler } from '../../test/support/stub-http-server.js';
import { createLokiApi } from './loki-api.js';

// The fake Loki answers in test/integration; these pin down headers, parameters and odd answers.
const stubs = stubHttpServers();
const stub = (handler: StubHandler) => stubs.start(handler);
const answer = answerWith;

afterEach(() => stubs.stopAll());

describe('createLokiApi', () => {
  it('sends the tenant and nanosecond times, and drops structured metadata from entries', async () => {
    let seen: IncomingMessage | undefined;
    const body = JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [{ stream: { app: 'web' }, values: [['1714564800000000000', 'hello', { trace_id: 'abc' }]] }] } });
    const url = await stub((request, response) => {
      seen = request;
      answer(200, body)(request, response);
    });
    const api = createLokiApi({ url, timeoutMs: 1000, tenantId: 'team-a' });
    const result = await api.queryRange('{app="web"}', { start: new Date('2024-05-01T11:00:00Z'), end: new Date('2024-05-01T12:00:00Z'), limit: 5 });
    expect(result.data).toEqual([{ stream: { app: 'web' }, values: [['1714564800000000000', 'hello']] }]);
    expect(seen!.headers['x-scope-orgid']).toBe('team-a');
    const params = new URL(seen!.url!, url).searchParams;
    expect(Object.fromEntries(params)).toEqual({ query: '{app="web"}', start: '1714561200000000000', end: '1714564800000000000', limit: '5', direction: 'backward' });
  });

  it("carries Loki's plain-text error", async () => {
    const api = createLokiApi({ url: await stub(answer(400, 'parse error at line 1, col 5: syntax error: unexpected IDENTIFIER\n', 'text/plain')), timeoutMs: 1000 });
    await expect(api.labels()).rejects.toMatchObject({ code: 'loki_query_failed', message: 'Loki rejected the request (HTTP 400): parse error at line 1, col 5: syntax error: unexpected IDENTIFIER' });
  });

  it('reads a label answer without data as no labels, and refuses metric queries with advice', async () => {
    expect((await createLokiApi({ url: await stub(answer(200, '{"status":"success"}')), timeoutMs: 1000 }).labels()).data).toEqual([]);
    const matrix = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } });
    const api = createLokiApi({ url: await stub(answer(200, matrix)), timeoutMs: 1000 });
    await expect(api.queryRange('rate({app="web"}[1m])', { start: new Date(0), end: new Date(1000), limit: 1 })).rejects.toThrow(/metric query .* only log queries/);
  });
});
