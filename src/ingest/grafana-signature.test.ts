import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { safeEqualStrings, verifyGrafanaSignature } from './grafana-signature.js';

const SECRET = 'contact-point-secret';
const BODY = '{"receiver":"responder","status":"firing","version":"1","alerts":[]}';
const NOW = new Date('2024-11-28T06:00:00Z');
const NOW_SECONDS = String(NOW.getTime() / 1000);

const sign = (signed: string, secret = SECRET) => createHmac('sha256', secret).update(signed).digest('hex');

const base = { rawBody: BODY, secret: SECRET, maxSkewSeconds: 300, now: NOW };

describe('verifyGrafanaSignature without a timestamp', () => {
  it('accepts the HMAC of the raw body', () => {
    expect(verifyGrafanaSignature({ ...base, signatureHeader: sign(BODY) })).toEqual({ ok: true });
  });

  it('accepts the body as bytes', () => {
    const bytes = new TextEncoder().encode(BODY);
    expect(verifyGrafanaSignature({ ...base, rawBody: bytes, signatureHeader: sign(BODY) })).toEqual({ ok: true });
  });

  it('reads the body bytes of a view into a larger buffer, not the whole buffer', () => {
    const padded = Buffer.from(`xxxx${BODY}yyyy`);
    const view = padded.subarray(4, 4 + Buffer.byteLength(BODY));
    expect(verifyGrafanaSignature({ ...base, rawBody: view, signatureHeader: sign(BODY) })).toEqual({ ok: true });
  });

  it('accepts upper-case hex', () => {
    expect(verifyGrafanaSignature({ ...base, signatureHeader: sign(BODY).toUpperCase() })).toEqual({ ok: true });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyGrafanaSignature({ ...base, signatureHeader: sign(BODY, 'other') })).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a signature over a different body', () => {
    expect(verifyGrafanaSignature({ ...base, rawBody: `${BODY} `, signatureHeader: sign(BODY) })).toMatchObject({ ok: false });
  });

  it.each([
    ['too short', 'abc'],
    ['too long', `${'0'.repeat(64)}00`],
    ['prefixed', `sha256=${sign(BODY)}`],
    ['not hex', 'z'.repeat(64)],
  ])('refuses a signature that is %s without throwing', (_case, signatureHeader) => {
    expect(verifyGrafanaSignature({ ...base, signatureHeader })).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it.each([undefined, '', '   '])('refuses a missing signature header (%j)', (signatureHeader) => {
    expect(verifyGrafanaSignature({ ...base, signatureHeader })).toEqual({ ok: false, reason: 'missing signature header' });
  });

  it('refuses everything when the secret is empty', () => {
    expect(verifyGrafanaSignature({ ...base, secret: '', signatureHeader: sign(BODY, '') })).toMatchObject({ ok: false });
  });
});

describe('verifyGrafanaSignature with a timestamp header configured', () => {
  const timed = { ...base, useTimestamp: true };

  it('accepts the HMAC of "<timestamp>:<body>"', () => {
    expect(verifyGrafanaSignature({ ...timed, timestampHeader: NOW_SECONDS, signatureHeader: sign(`${NOW_SECONDS}:${BODY}`) })).toEqual({ ok: true });
  });

  it('treats a passed timestamp as configured when useTimestamp is not given', () => {
    expect(verifyGrafanaSignature({ ...base, timestampHeader: NOW_SECONDS, signatureHeader: sign(`${NOW_SECONDS}:${BODY}`) })).toEqual({ ok: true });
    expect(verifyGrafanaSignature({ ...base, timestampHeader: NOW_SECONDS, signatureHeader: sign(BODY) })).toMatchObject({ ok: false });
  });

  it('refuses a signature over the body alone', () => {
    expect(verifyGrafanaSignature({ ...timed, timestampHeader: NOW_SECONDS, signatureHeader: sign(BODY) })).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a timestamp other than the one signed', () => {
    const other = String(Number(NOW_SECONDS) - 1);
    expect(verifyGrafanaSignature({ ...timed, timestampHeader: other, signatureHeader: sign(`${NOW_SECONDS}:${BODY}`) })).toMatchObject({ ok: false });
  });

  it.each([undefined, ''])('refuses a missing timestamp header (%j)', (timestampHeader) => {
    expect(verifyGrafanaSignature({ ...timed, timestampHeader, signatureHeader: sign(BODY) })).toEqual({ ok: false, reason: 'missing timestamp header' });
  });

  it.each(['2024-11-28T06:00:00Z', '1732773600.5', '-1732773600', '1732773600000000000000'])('refuses a timestamp that is not unix seconds (%s)', (timestampHeader) => {
    expect(verifyGrafanaSignature({ ...timed, timestampHeader, signatureHeader: sign(`${timestampHeader}:${BODY}`) })).toEqual({ ok: false, reason: 'timestamp is not unix seconds' });
  });

  it.each([
    ['at the past edge', -300, true],
    ['at the future edge', 300, true],
    ['just too old', -301, false],
    ['just too far ahead', 301, false],
    ['an hour old', -3600, false],
  ])('a timestamp %s of the window: ok=%s', (_case, offset, ok) => {
    const ts = String(Number(NOW_SECONDS) + offset);
    const verdict = verifyGrafanaSignature({ ...timed, timestampHeader: ts, signatureHeader: sign(`${ts}:${BODY}`) });
    expect(verdict).toEqual(ok ? { ok: true } : { ok: false, reason: 'timestamp outside replay window' });
  });

  it('reports a bad signature, not staleness, for a stale unsigned request', () => {
    const ts = String(Number(NOW_SECONDS) - 3600);
    expect(verifyGrafanaSignature({ ...timed, timestampHeader: ts, signatureHeader: sign('forged') })).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('uses the clock when no time is given', () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const { now: _now, ...rest } = timed;
    expect(verifyGrafanaSignature({ ...rest, timestampHeader: ts, signatureHeader: sign(`${ts}:${BODY}`) })).toEqual({ ok: true });
  });
});

describe('safeEqualStrings', () => {
  it.each([
    ['equal strings', 'key-123', 'key-123', true],
    ['different strings of one length', 'key-123', 'key-124', false],
    ['a prefix', 'key-123', 'key-1234', false],
    ['empty and non-empty', '', 'x', false],
    ['two empty strings', '', '', true],
    ['non-ASCII', 'ключ', 'ключ', true],
  ])('compares %s', (_case, a, b, equal) => {
    expect(safeEqualStrings(a, b)).toBe(equal);
  });
});
