import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import type { JsonObject } from '../domain/json-value.js';
import { GENESIS_HASH, sealAuditEvent } from './audit-hash.js';
import type { AuditKey } from './audit-key.js';
import type { AuditRow } from './audit-store.js';

// One sealer at a time across every replica, so the chain never forks.
const SEAL_LOCK = 7_261_002;

type UnsealedRow = Pick<AuditRow, 'id' | 'incident_id' | 'at' | 'actor' | 'kind' | 'data'>;

/**
 * The fields the hash covers, as the database hands them back. The column types already guarantee what
 * AuditEventSchema checks (bigint id, uuid, timestamptz as an ISO string, text, jsonb) except that data
 * is an object: that is checked here, so nothing verify would refuse gets sealed. verify stays strict.
 */
function hashedFields(row: UnsealedRow): { id: number; incidentId: string | null; at: string; actor: string; kind: string; data: JsonObject } {
  const { data } = row as { data: unknown };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error(`audit event ${row.id}: data is not a JSON object`);
  return { id: row.id, incidentId: row.incident_id, at: row.at, actor: row.actor, kind: row.kind, data: data as JsonObject };
}

/** An event as it went onto the chain, for whoever acts on what was sealed (anchors, shipping). */
export interface SealedEventNotice {
  seq: number;
  hash: string;
  incidentId: string | null;
  kind: string;
  data: JsonObject;
}

/**
 * Seals committed, unsealed events onto the chain in id order: each gets the next seq, the
 * previous event's hash and its own HMAC under `key`. An event whose transaction commits late is
 * sealed in a later batch; the chain order is the sealing order. Returns the events it sealed.
 */
export async function sealAuditEvents(pool: Pool, key: AuditKey, batchSize = 1000): Promise<SealedEventNotice[]> {
  return withTransaction(pool, async (client) => {
    const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SEAL_LOCK]);
    if (!locked.rows[0]?.locked) return [];
    const pending = await client.query<UnsealedRow>('SELECT id, incident_id, at, actor, kind, data FROM audit_events WHERE seq IS NULL ORDER BY id LIMIT $1', [batchSize]);
    if (pending.rows.length === 0) return [];
    const head = await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1');
    let seq = head.rows[0]?.seq ?? 0;
    let prevHash = head.rows[0]?.hash ?? GENESIS_HASH;
    const ids: number[] = [];
    const seqs: number[] = [];
    const prevHashes: string[] = [];
    const hashes: string[] = [];
    const sealed: SealedEventNotice[] = [];
    for (const row of pending.rows) {
      seq += 1;
      const fields = hashedFields(row);
      const hash = sealAuditEvent({ ...fields, seq, prevHash }, key);
      sealed.push({ seq, hash, incidentId: fields.incidentId, kind: fields.kind, data: fields.data });
      ids.push(row.id);
      seqs.push(seq);
      prevHashes.push(prevHash);
      hashes.push(hash);
      prevHash = hash;
    }
    await client.query(
      `UPDATE audit_events AS e SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash, key_id = $5
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS s (id, seq, prev_hash, hash)
       WHERE e.id = s.id`,
      [ids, seqs, prevHashes, hashes, key.id],
    );
    return sealed;
  });
}

/** Seals until nothing is left, e.g. before a verify or at shutdown. */
export async function sealAllAuditEvents(pool: Pool, key: AuditKey, onSealed?: (events: SealedEventNotice[]) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const sealed = await sealAuditEvents(pool, key);
    if (sealed.length > 0) onSealed?.(sealed);
    total += sealed.length;
    if (sealed.length === 0) return total;
  }
}

export interface AuditSealer {
  stop(): Promise<void>;
}

export interface AuditSealerOptions {
  intervalMs?: number;
  onError?: (error: unknown) => void;
  /** Called after each batch that sealed something, with its events in seq order. */
  onSealed?: (events: SealedEventNotice[]) => void;
}

export function startAuditSealer(pool: Pool, key: AuditKey, options: AuditSealerOptions = {}): AuditSealer {
  let running: Promise<unknown> = Promise.resolve();
  const sealOnce = async () => {
    const sealed = await sealAuditEvents(pool, key);
    if (sealed.length > 0) options.onSealed?.(sealed);
  };
  const timer = setInterval(() => {
    running = running.then(sealOnce).catch((error: unknown) => options.onError?.(error));
  }, options.intervalMs ?? 200);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await sealAllAuditEvents(pool, key, options.onSealed).catch((error: unknown) => options.onError?.(error));
    },
  };
}

