import { IncomingMessage } from 'node:http';

export type BodyRead = { ok: true; bytes: Buffer } | { ok: false; tooLarge: true };

const TOO_LARGE: BodyRead = { ok: false, tooLarge: true };

function declaredTooLarge(contentLength: string | null | undefined, limit: number): boolean {
  const declared = Number(contentLength ?? NaN);
  return Number.isFinite(declared) && declared > limit;
}

/** Reads at most `limit` bytes; stops reading (and refuses) as soon as the body passes it. */
export async function readLimited(request: Request, limit: number): Promise<BodyRead> {
  if (declaredTooLarge(request.headers.get('content-length'), limit)) return TOO_LARGE;
  if (!request.body) return { ok: true, bytes: Buffer.alloc(0) };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}

/**
 * The Node request under @hono/node-server (`c.env.incoming`), when its body has not been touched yet;
 * null otherwise (app.request in tests, another runtime, or a body something else started reading).
 */
export function untouchedIncoming(env: unknown): IncomingMessage | null {
  const incoming = (env as { incoming?: unknown } | null | undefined)?.incoming;
  return incoming instanceof IncomingMessage && incoming.readableFlowing === null && !incoming.readableEnded ? incoming : null;
}

/**
 * `readLimited` straight from Node's IncomingMessage, without a web Request and web streams in between
 * (measurably cheaper per request). Same limits: a declared content-length over the limit is refused
 * unread; otherwise reading stops as soon as the body passes the limit, and the rest is left to the
 * server (@hono/node-server drains or closes it after the answer).
 */
export function readIncomingLimited(incoming: IncomingMessage, limit: number): Promise<BodyRead> {
  if (declaredTooLarge(incoming.headers['content-length'], limit)) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        incoming.pause();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve({ ok: true, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    // A connection that closes before the body ended (no 'error' on some paths): the body is incomplete.
    const onClose = () => {
      stop();
      reject(new Error('the request body ended early: the connection closed'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/**
 * A request header as the web Headers of the request would answer it (@hono/node-server builds those from
 * rawHeaders): names compared case-insensitively, repeated headers joined with ", ", absent → undefined.
 */
export function incomingHeader(incoming: IncomingMessage, name: string): string | undefined {
  const raw = incoming.rawHeaders;
  const wanted = name.toLowerCase();
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === wanted.length && key.toLowerCase() === wanted) value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}
