import { createHmac, hash, timingSafeEqual } from 'node:crypto';

export interface GrafanaSignatureCheck {
  /** The body exactly as received; re-serialised JSON would not match the signature. */
  rawBody: Uint8Array | string;
  signatureHeader: string | undefined;
  /** The timestamp header's value, when the contact point is configured to send one. */
  timestampHeader?: string | undefined;
  /**
   * Whether a timestamp header is configured. Defaults to "a timestamp was passed", which cannot
   * tell a configured-but-missing header from an unconfigured one; callers that configure one pass true.
   */
  useTimestamp?: boolean;
  secret: string;
  maxSkewSeconds: number;
  now?: Date;
}

export type GrafanaSignatureVerdict = { ok: true } | { ok: false; reason: string };

const UNIX_SECONDS = /^\d{1,15}$/;

function bytesOf(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Checks Grafana's webhook HMAC: hex HMAC-SHA256 of the raw body, or of `"<timestamp>:" + body`
 * when a timestamp header is configured, in which case a timestamp outside ±maxSkewSeconds is refused
 * so a captured delivery cannot be replayed later.
 */
export function verifyGrafanaSignature(check: GrafanaSignatureCheck): GrafanaSignatureVerdict {
  // An empty key makes the HMAC something anyone can compute.
  if (!check.secret) return { ok: false, reason: 'no signing secret configured' };
  const presented = check.signatureHeader?.trim();
  if (!presented) return { ok: false, reason: 'missing signature header' };

  const useTimestamp = check.useTimestamp ?? check.timestampHeader !== undefined;
  const timestamp = useTimestamp ? (check.timestampHeader?.trim() ?? '') : null;
  if (timestamp === '') return { ok: false, reason: 'missing timestamp header' };
  if (timestamp !== null && !UNIX_SECONDS.test(timestamp)) return { ok: false, reason: 'timestamp is not unix seconds' };

  const hmac = createHmac('sha256', check.secret);
  if (timestamp !== null) hmac.update(`${timestamp}:`);
  hmac.update(bytesOf(check.rawBody));
  const expected = Buffer.from(hmac.digest('hex'), 'utf8');
  // Hex is case-insensitive; lower-casing keeps an upper-case sender from failing for no reason.
  const given = Buffer.from(presented.toLowerCase(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match' };
  }

  // Checked after the signature so an unsigned request learns nothing about the clock.
  if (timestamp !== null) {
    const nowSeconds = Math.floor((check.now ?? new Date()).getTime() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > check.maxSkewSeconds) {
      return { ok: false, reason: 'timestamp outside replay window' };
    }
  }
  return { ok: true };
}

/**
 * Constant-time string equality for keys and tokens. Comparing sha256 digests gives both sides
 * the same length, so neither the comparison nor an early length check reveals the secret's length.
 */
export function safeEqualStrings(a: string, b: string): boolean {
  const digestA = hash('sha256', a, 'buffer');
  const digestB = hash('sha256', b, 'buffer');
  return timingSafeEqual(digestA, digestB);
}
