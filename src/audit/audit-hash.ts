import { createHash } from 'node:crypto';
import type { SealedAuditEvent } from '../domain/audit-event.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The sealer and the verifier hash through this one function, over the same canonical form. */
export function hashAuditEvent(event: Omit<SealedAuditEvent, 'hash'>): string {
  const body = canonicalJson({
    seq: event.seq,
    id: event.id,
    incidentId: event.incidentId,
    at: event.at,
    actor: event.actor,
    kind: event.kind,
    data: event.data,
    prevHash: event.prevHash,
  });
  return createHash('sha256').update(body).digest('hex');
}
