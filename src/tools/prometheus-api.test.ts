import { afterEach, describe, expect, it } from 'vitest';
import { answerWith, stubHttpServers, type StubHandler } from '../../test/support/stub-http-server.js';
import { createPrometheusApi } from './prometheus-api.js';

// A real Prometheus is queried in test/integration; these pin down what a real one rarely does.
const stubs = stubHttpServers();
const stub = (handler: StubHandler) => stubs.start(handler);
const answer = answerWith;

afterEach(() => stubs.stopAll());

describe('createPrometheusApi', () => {
  it('turns a scalar into one sample without labels and reports the body size', async () => {
    const body = JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1714564800, '42'] } });
    const api = createPrometheusApi({ url: `${await stub(answer(200, body))}/`, timeoutMs: 1000 });
    expect(await api.instant('42')).toEqual({ data: [{ metric: {}, value: [1714564800, '42'] }], rawBytes: Buffer.byteLength(body) });
  });

  it('keeps the start of a proxy error page that is not JSON', async () => {
    const api = createPrometheusApi({ url: await stub(answer(502, '<html>\n<h1>502 Bad Gateway</h1></html>', 'text/html')), timeoutMs: 1000 });
    await expect(api.alerts()).rejects.toMatchObject({ code: 'prometheus_query_failed', message: expect.stringContaining('HTTP 502 with a body that is not JSON: <html> <h1>502 Bad Gateway</h1></html>') });
  });

  it('says unreachable, with the reason, for a closed port and for a server that never answers', async () => {
    const closed = await stub(answer(200, '{}'));
    await stubs.stopAll();
    await expect(createPrometheusApi({ url: closed, timeoutMs: 1000 }).rules()).rejects.toMatchObject({ code: 'prometheus_unreachable', message: expect.stringContaining('ECONNREFUSED') });
    const silent = await stub(() => undefined);
    await expect(createPrometheusApi({ url: silent, timeoutMs: 100 }).rules()).rejects.toMatchObject({ code: 'prometheus_unreachable', message: expect.stringContaining('no answer within 100 ms') });
  });

  it('refuses a success in an unexpected shape', async () => {
    const api = createPrometheusApi({ url: await stub(answer(200, JSON.stringify({ status: 'success', data: { alerts: [{ labels: {} }] } }))), timeoutMs: 1000 });
    await expect(api.alerts()).rejects.toMatchObject({ code: 'prometheus_query_failed', message: expect.stringContaining('alerts.0.state: Required') });
  });
});
