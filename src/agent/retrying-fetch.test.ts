import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRetryingFetch, type RetryNotice } from './retrying-fetch.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done) ?? done(undefined));
  server = undefined;
});

/** A real HTTP server answering each request with the next behaviour in the list. */
async function serve(behaviours: ('hang' | number)[]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  server = createServer((_req, res) => {
    const behaviour = behaviours[Math.min(hits, behaviours.length - 1)]!;
    hits += 1;
    if (behaviour === 'hang') return;
    res.writeHead(behaviour, behaviour === 429 ? { 'retry-after': '0' } : {});
    res.end(JSON.stringify({ status: behaviour }));
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/`, hits: () => hits };
}

describe('createRetryingFetch', () => {
  it('retries a rate limit, a server error and a hung request, then answers', async () => {
    const target = await serve([429, 503, 'hang', 200]);
    const notices: RetryNotice[] = [];
    const retryingFetch = createRetryingFetch({ retries: 3, backoffMs: 1, attemptTimeoutMs: 300, onRetry: (n) => notices.push(n) });
    const response = await retryingFetch(target.url);
    expect(response.status).toBe(200);
    expect(target.hits()).toBe(4);
    expect(notices.map((n) => n.reason)).toEqual(['HTTP 429', 'HTTP 503', 'timed out after 300 ms']);
  });

  it('hands back the last error response once the retries are spent', async () => {
    const target = await serve([500]);
    const response = await createRetryingFetch({ retries: 1, backoffMs: 1, attemptTimeoutMs: 1000 })(target.url);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ status: 500 });
    expect(target.hits()).toBe(2);
  });

  it('does not retry a client error such as a wrong key', async () => {
    const target = await serve([401, 200]);
    const response = await createRetryingFetch({ retries: 3, backoffMs: 1, attemptTimeoutMs: 1000 })(target.url);
    expect(response.status).toBe(401);
    expect(target.hits()).toBe(1);
  });

  it('says how long it waited when every attempt times out', async () => {
    const target = await serve(['hang']);
    await expect(createRetryingFetch({ retries: 1, backoffMs: 1, attemptTimeoutMs: 200 })(target.url)).rejects.toThrow('model request timed out after 200 ms (2 attempts)');
  });

  it('stops at once when the caller gives up', async () => {
    const target = await serve(['hang']);
    const started = Date.now();
    await expect(createRetryingFetch({ retries: 5, backoffMs: 1, attemptTimeoutMs: 10_000 })(target.url, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(target.hits()).toBe(1);
  });
});
