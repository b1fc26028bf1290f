import { createHash } from 'node:crypto';
import type { Pool, Queryable } from '../store/database.js';
import { withTransaction } from '../store/database.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEventInput {
  incidentId: string | null;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  id: number;
  at: string;
  /** Position in the chain; null until the sealer has sealed the event (normally well under a second). */
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
}

export type SealedAuditEvent = AuditEvent & { seq: number; prevHash: string; hash: string };

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

/** Appends inside the caller's transaction, so the event commits with the change it records. */
export async function appendAuditEvent(client: Queryable, input: AuditEventInput): Promise<void> {
  await client.query('INSERT INTO audit_events (incident_id, at, actor, kind, data) VALUES ($1, $2, $3, $4, $5)', [
    input.incidentId,
    new Date().toISOString(),
    input.actor,
    input.kind,
    // jsonb normalises; the sealer hashes what the database hands back, and so does verify.
    JSON.stringify(input.data),
  ]);
}

interface AuditRow {
  id: number;
  seq: number | null;
  incident_id: string | null;
  at: string;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
  prev_hash: string | null;
  hash: string | null;
}

function fromRow(row: AuditRow): AuditEvent {
  return {
    id: row.id,
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
  const result = await db.query<AuditRow>('SELECT * FROM audit_events WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return result.rows.map(fromRow);
}

// One sealer at a time across every replica, so the chain never forks.
const SEAL_LOCK = 7_261_002;

/**
 * Seals committed, unsealed events onto the chain in id order: each gets the next seq, the
 * previous event's hash and its own. An event whose transaction commits late is sealed in a
 * later batch; the chain order is the sealing order. Returns how many events it sealed.
 */
export async function sealAuditEvents(pool: Pool, batchSize = 1000): Promise<number> {
  return withTransaction(pool, async (client) => {
    const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SEAL_LOCK]);
    if (!locked.rows[0]?.locked) return 0;
    const pending = await client.query<AuditRow>('SELECT * FROM audit_events WHERE seq IS NULL ORDER BY id LIMIT $1', [batchSize]);
    if (pending.rows.length === 0) return 0;
    const head = await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1');
    let seq = head.rows[0]?.seq ?? 0;
    let prevHash = head.rows[0]?.hash ?? GENESIS_HASH;
    const ids: number[] = [];
    const seqs: number[] = [];
    const prevHashes: string[] = [];
    const hashes: string[] = [];
    for (const row of pending.rows) {
      seq += 1;
      const hash = hashAuditEvent({ ...fromRow(row), seq, prevHash });
      ids.push(row.id);
      seqs.push(seq);
      prevHashes.push(prevHash);
      hashes.push(hash);
      prevHash = hash;
    }
    await client.query(
      `UPDATE audit_events AS e SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS s (id, seq, prev_hash, hash)
       WHERE e.id = s.id`,
      [ids, seqs, prevHashes, hashes],
    );
    return ids.length;
  });
}

/** Seals until nothing is left, e.g. before a verify or at shutdown. */
export async function sealAllAuditEvents(pool: Pool): Promise<number> {
  let total = 0;
  for (;;) {
    const sealed = await sealAuditEvents(pool);
    total += sealed;
    if (sealed === 0) return total;
  }
}

export interface AuditSealer {
  stop(): Promise<void>;
}

export function startAuditSealer(pool: Pool, options: { intervalMs?: number; onError?: (error: unknown) => void } = {}): AuditSealer {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => sealAuditEvents(pool)).catch((error: unknown) => options.onError?.(error));
  }, options.intervalMs ?? 200);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await sealAllAuditEvents(pool).catch((error: unknown) => options.onError?.(error));
    },
  };
}

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
      const event = fromRow(row) as SealedAuditEvent;
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
