import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incomingHeader, readIncomingLimited, readLimited, untouchedIncoming, type BodyRead } from './read-body.js';

const LIMIT = 1024;

// A real Node server: each request's body is read with readIncomingLimited and the outcome sent back.
let server: Server;
let port: number;
let lastIncoming: IncomingMessage | null = null;

beforeAll(async () => {
  server = createServer((incoming, outgoing) => {
    lastIncoming = incoming;
    const untouched = untouchedIncoming({ incoming }) !== null;
    readIncomingLimited(incoming, LIMIT).then(
      (read: BodyRead) => {
        outgoing.setHeader('content-type', 'application/json');
        outgoing.end(JSON.stringify(read.ok ? { ok: true, untouched, body: read.bytes.toString('utf8'), contentType: incomingHeader(incoming, 'Content-Type') ?? null } : { ok: false }));
      },
      (error: Error) => outgoing.end(JSON.stringify({ error: error.message })),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

/** Sends chunks one at a time (chunked transfer unless content-length is given) and answers the server's verdict. */
function send(chunks: string[], headers: Record<string, string | string[]> = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    });
    sent.on('error', reject);
    for (const chunk of chunks) sent.write(chunk);
    sent.end();
  });
}

describe('readIncomingLimited', () => {
  it('reads the whole body, in one chunk or many', async () => {
    expect(await send(['{"a":1}'])).toEqual({ ok: true, untouched: true, body: '{"a":1}', contentType: 'application/json' });
    expect(await send(['{"a":', '"é', 'x"}'])).toMatchObject({ ok: true, body: '{"a":"éx"}' });
  });

  it('reads an empty body as empty', async () => {
    expect(await send([], { 'content-length': '0' })).toMatchObject({ ok: true, body: '' });
  });

  it('refuses a declared content-length over the limit without reading', async () => {
    // The body is never sent: the answer comes from the header alone.
    const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const sent = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': String(LIMIT + 1) } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      });
      sent.on('error', () => {});
      sent.flushHeaders();
      setTimeout(() => reject(new Error('no answer without the body')), 5000).unref();
    });
    expect(answer).toEqual({ ok: false });
  });

  it('refuses a body without content-length once it passes the limit, and stops reading it', async () => {
    expect(await send(['x'.repeat(LIMIT), 'y'])).toEqual({ ok: false });
    // What arrived after the verdict is left to the server: the reader no longer listens.
    expect(lastIncoming!.listenerCount('data')).toBe(0);
  });

  it('accepts a body of exactly the limit', async () => {
    expect(await send(['x'.repeat(LIMIT - 2), '{}'])).toMatchObject({ ok: true });
  });
});

describe('incomingHeader answers as the web Headers of the request would', () => {
  it('compares names case-insensitively and joins repeated headers with ", "', async () => {
    expect(await send(['{}'], { 'content-type': ['application/json', 'text/plain'] })).toMatchObject({ contentType: 'application/json, text/plain' });
  });

  it('answers undefined for an absent header', () => {
    const incoming = { rawHeaders: ['Host', 'x', 'X-Signature', 'abc'] } as unknown as IncomingMessage;
    expect(incomingHeader(incoming, 'x-signature')).toBe('abc');
    expect(incomingHeader(incoming, 'x-timestamp')).toBeUndefined();
  });
});

describe('untouchedIncoming', () => {
  it('is null outside @hono/node-server, so the web-stream path is used', () => {
    expect(untouchedIncoming(undefined)).toBeNull();
    expect(untouchedIncoming({})).toBeNull();
    expect(untouchedIncoming({ incoming: { readableFlowing: null } })).toBeNull();
  });
});

describe('readLimited (web Request, the fallback)', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) => new Request('http://x/', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

  it('reads the body', async () => {
    const read = await readLimited(post('{"a":1}'), LIMIT);
    expect(read.ok && read.bytes.toString('utf8')).toBe('{"a":1}');
  });

  it('refuses a declared length over the limit and a streamed body past it', async () => {
    expect(await readLimited(post('{}', { 'content-length': String(LIMIT + 1) }), LIMIT)).toEqual({ ok: false, tooLarge: true });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(LIMIT));
        controller.enqueue(new Uint8Array(1));
        controller.close();
      },
    });
    expect(await readLimited(post(stream), LIMIT)).toEqual({ ok: false, tooLarge: true });
  });
});
