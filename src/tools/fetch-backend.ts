import { BackendError } from '../domain/errors.js';

export interface BackendResponse {
  status: number;
  ok: boolean;
  body: string;
  /** Size of the response body as it came over the wire (decoded), before any compaction. */
  rawBytes: number;
}

/**
 * One HTTP request to Prometheus or Loki with a deadline. Only a failure to get an answer throws (with
 * `unreachableCode`); an HTTP error status is returned, since each backend words its errors differently.
 */
export async function fetchBackend(
  url: string,
  init: RequestInit & { timeoutMs: number; backend: string; unreachableCode: 'prometheus_unreachable' | 'loki_unreachable' },
): Promise<BackendResponse> {
  const { timeoutMs, backend, unreachableCode, ...request } = init;
  // Without the query string, which can be long and is the caller's to report.
  const where = url.split('?')[0]!;
  try {
    const response = await fetch(url, { ...request, signal: AbortSignal.timeout(timeoutMs) });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, ok: response.ok, body: new TextDecoder().decode(bytes), rawBytes: bytes.byteLength };
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeFetchError(error);
    throw new BackendError(unreachableCode, `${backend} at ${where} unreachable: ${reason}`, { url: where }, { cause: error });
  }
}

// undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND) in the cause.
function describeFetchError(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (!cause) return message;
  return `${message} (${cause.code ?? cause.message ?? 'unknown cause'})`;
}

/** Loki and proxies answer errors in plain text or HTML; keep the start of it, on one line. */
export function errorText(body: string, maxChars = 500): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars)}…` : flat;
}

/** Seconds since the epoch with millisecond precision: the form both APIs accept. */
export function unixSeconds(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}
