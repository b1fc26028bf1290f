import type { Pool } from '../database/database.js';
import type { SealedAuditEvent } from '../domain/audit-event.js';
import { GENESIS_HASH, hashAuditEvent } from './audit-hash.js';
import { auditEventFromRow, type AuditRow } from './audit-store.js';

export type AuditVerification =
  | { ok: true; events: number; head: string; unsealed: number }
  | { ok: false; events: number; brokenAt: number; problem: string; unsealed: number };

/** Walks the whole chain in pages; reports the first event whose content, link or numbering does not hold. */
export async function verifyAuditChain(pool: Pool, pageSize = 5000): Promise<AuditVerification> {
  const unsealed = Number((await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM audit_events WHERE seq IS NULL')).rows[0]?.count ?? 0);
  let expectedSeq = 1;
  let previousHash = GENESIS_HASH;
  for (;;) {
    const page = await pool.query<AuditRow>('SELECT * FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2', [expectedSeq, pageSize]);
    for (const row of page.rows) {
      const event = auditEventFromRow(row) as SealedAuditEvent;
      const broken = (problem: string) => ({ ok: false as const, events: expectedSeq - 1, brokenAt: event.seq, problem, unsealed });
      if (event.seq !== expectedSeq) return { ...broken(`event ${expectedSeq} is missing (next is ${event.seq})`), brokenAt: expectedSeq };
      if (event.prevHash !== previousHash) return broken(`event ${event.seq} does not link to event ${event.seq - 1}`);
      if (hashAuditEvent(event) !== event.hash) return broken(`event ${event.seq} was altered after it was written`);
      previousHash = event.hash;
      expectedSeq += 1;
    }
    if (page.rows.length < pageSize) return { ok: true, events: expectedSeq - 1, head: previousHash, unsealed };
  }
}
