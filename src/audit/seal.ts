import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { GENESIS_HASH, hashAuditEvent } from './audit-hash.js';
import { auditEventFromRow, type AuditRow } from './audit-store.js';

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
      const hash = hashAuditEvent({ ...auditEventFromRow(row), seq, prevHash });
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

