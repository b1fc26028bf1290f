import { createHash } from 'node:crypto';
import type { Pool, Queryable } from '../store/database.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEventInput {
  incidentId: string | null;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export function hashAuditEvent(event: Omit<AuditEvent, 'hash'>): string {
  const body = canonicalJson({
    seq: event.seq,
    incidentId: event.incidentId,
    at: event.at,
    actor: event.actor,
    kind: event.kind,
    data: event.data,
    prevHash: event.prevHash,
  });
  return createHash('sha256').update(body).digest('hex');
}

// Serialises appends across connections and replicas so the chain never forks.
const AUDIT_LOCK = 7_261_002;

/** Appends inside the caller's transaction, so the event commits with the change it records. */
export async function appendAuditEvent(client: Queryable, input: AuditEventInput): Promise<AuditEvent> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
  const last = await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const previous = last.rows[0];
  // jsonb would reorder and normalise; store what we hash by round-tripping through JSON first.
  const data = JSON.parse(JSON.stringify(input.data)) as Record<string, unknown>;
  const unhashed = {
    ...input,
    data,
    seq: (previous?.seq ?? 0) + 1,
    at: new Date().toISOString(),
    prevHash: previous?.hash ?? GENESIS_HASH,
  };
  const event: AuditEvent = { ...unhashed, hash: hashAuditEvent(unhashed) };
  await client.query(
    'INSERT INTO audit_events (seq, incident_id, at, actor, kind, data, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
    [event.seq, event.incidentId, event.at, event.actor, event.kind, JSON.stringify(event.data), event.prevHash, event.hash],
  );
  return event;
}

interface AuditRow {
  seq: number;
  incident_id: string | null;
  at: string;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function fromRow(row: AuditRow): AuditEvent {
  return {
    seq: row.seq,
    incidentId: row.incident_id,
    at: row.at,
    actor: row.actor,
    kind: row.kind,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export async function listAuditEvents(db: Queryable, incidentId: string): Promise<AuditEvent[]> {
  const result = await db.query<AuditRow>('SELECT * FROM audit_events WHERE incident_id = $1 ORDER BY seq', [incidentId]);
  return result.rows.map(fromRow);
}

export type AuditVerification =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; brokenAt: number; problem: string };

/** Walks the whole chain in pages; reports the first event whose content, link or numbering does not hold. */
export async function verifyAuditChain(pool: Pool, pageSize = 5000): Promise<AuditVerification> {
  let expectedSeq = 1;
  let previousHash = GENESIS_HASH;
  for (;;) {
    const page = await pool.query<AuditRow>('SELECT * FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2', [expectedSeq, pageSize]);
    for (const row of page.rows) {
      const event = fromRow(row);
      if (event.seq !== expectedSeq) {
        return { ok: false, events: expectedSeq - 1, brokenAt: expectedSeq, problem: `event ${expectedSeq} is missing (next is ${event.seq})` };
      }
      if (event.prevHash !== previousHash) {
        return { ok: false, events: expectedSeq - 1, brokenAt: event.seq, problem: `event ${event.seq} does not link to event ${event.seq - 1}` };
      }
      if (hashAuditEvent(event) !== event.hash) {
        return { ok: false, events: expectedSeq - 1, brokenAt: event.seq, problem: `event ${event.seq} was altered after it was written` };
      }
      previousHash = event.hash;
      expectedSeq += 1;
    }
    if (page.rows.length < pageSize) return { ok: true, events: expectedSeq - 1, head: previousHash };
  }
}
