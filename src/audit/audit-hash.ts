import { createHash, createHmac } from 'node:crypto';
import type { JsonValue } from '../domain/json-value.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

/** What an event says, as the database hands it back. */
export interface AuditContent {
  id: number;
  incidentId: string | null;
  at: string;
  actor: string;
  kind: string;
  data: JsonValue;
}

/** An event's place in the chain. */
export interface AuditPlace {
  seq: number;
  prevHash: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * How events were sealed before the chain was keyed: SHA-256 over the canonical event. Anyone can compute
 * it, so against someone who can write the database it proves nothing; verify still checks these events
 * and refuses one that follows a keyed event.
 */
export function plainAuditHash(event: AuditContent & AuditPlace): string {
  return sha256(
    canonicalJson({
      seq: event.seq,
      id: event.id,
      incidentId: event.incidentId,
      at: event.at,
      actor: event.actor,
      kind: event.kind,
      data: event.data,
      prevHash: event.prevHash,
    }),
  );
}

/** SHA-256 over the canonical content of an event, without its place. */
export function contentSha256(event: AuditContent): string {
  return sha256(canonicalJson({ id: event.id, incidentId: event.incidentId, at: event.at, actor: event.actor, kind: event.kind, data: event.data }));
}

/** The fields a keyed seal covers. The content enters as its digest, so a link can be checked without the content it seals. */
export interface KeyedSeal extends AuditPlace {
  keyId: string;
  incidentId: string | null;
  contentSha256: string;
}

/**
 * HMAC-SHA256 with the audit key over an event's place, the key's id, its incident and the digest of its
 * content. Because the content enters as a digest, an export can replace another incident's event by its
 * link (these fields and the hash) and the chain through it can still be checked.
 */
export function keyedAuditHash(seal: KeyedSeal, secret: Buffer): string {
  const body = canonicalJson({
    scheme: 'hmac-sha256/1',
    seq: seal.seq,
    prevHash: seal.prevHash,
    keyId: seal.keyId,
    incidentId: seal.incidentId,
    contentSha256: seal.contentSha256,
  });
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The seal the sealer writes and the verifier recomputes: one function for both, as for the canonical form. */
export function sealAuditEvent(event: AuditContent & AuditPlace, key: { id: string; secret: Buffer }): string {
  return keyedAuditHash({ seq: event.seq, prevHash: event.prevHash, keyId: key.id, incidentId: event.incidentId, contentSha256: contentSha256(event) }, key.secret);
}
