import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLoki, type FakeLoki } from '../testing/fake-loki.js';
import { createLokiPusher, type LokiEntry } from './loki-push.js';

const now = () => (BigInt(Date.now()) * 1_000_000n).toString();
const entry = (line: string, kind = 'incident.state'): LokiEntry => ({ labels: { service_name: 'responder', kind }, ns: now(), line, metadata: { seq: '1', incident_id: 'i-1' } });

describe('createLokiPusher', () => {
  let loki: FakeLoki;
  beforeAll(async () => {
    loki = await startFakeLoki({ rejectOlderThanMs: 60_000 });
  });
  afterAll(() => loki.close());

  it('pushes entries grouped into streams by their labels, with structured metadata', async () => {
    const pusher = createLokiPusher({ url: `${loki.url}/`, timeoutMs: 2000 });
    expect(await pusher.push([entry('a'), entry('b', 'approval.granted'), entry('c')], { structuredMetadata: true })).toEqual({ kind: 'accepted' });
    expect(loki.entries().map((e) => [e.stream.kind, e.line, e.metadata.seq])).toEqual([
      ['incident.state', 'a', '1'],
      ['incident.state', 'c', '1'],
      ['approval.granted', 'b', '1'],
    ]);
    expect(await pusher.push([entry('d')], { structuredMetadata: false })).toEqual({ kind: 'accepted' });
    expect(loki.entries().at(-1)?.metadata).toEqual({});
  });

  it('calls a down, overloaded or unauthorised Loki unavailable (retry), and a bad request refused (do not)', async () => {
    const pusher = createLokiPusher({ url: loki.url, timeoutMs: 2000 });
    for (const status of [500, 503, 429, 401, 403, 404]) {
      loki.setOutage(status);
      expect(await pusher.push([entry('x')], { structuredMetadata: true }), String(status)).toMatchObject({ kind: 'unavailable', status });
    }
    loki.setOutage(null);
    const tooOld = { ...entry('old'), ns: (BigInt(Date.now() - 3_600_000) * 1_000_000n).toString() };
    expect(await pusher.push([tooOld], { structuredMetadata: true })).toMatchObject({ kind: 'refused', status: 400, message: expect.stringMatching(/timestamp too old/) });
  });

  it('calls an unreachable Loki unavailable', async () => {
    const gone = await startFakeLoki();
    await gone.close();
    expect(await createLokiPusher({ url: gone.url, timeoutMs: 1000 }).push([entry('x')], { structuredMetadata: true })).toMatchObject({ kind: 'unavailable', status: null });
  });
});
