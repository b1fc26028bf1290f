import type { Pool, Queryable } from '../database/database.js';
import type { JsonObject, JsonValue } from '../domain/json-value.js';
import { toJsonb } from './json-column.js';

export interface OutboxMessage {
  id: number;
  channel: string;
  dedupeKey: string;
  payload: JsonObject;
  /** Attempts so far, this one included. */
  attempts: number;
  createdAt: string;
}

export interface OutboxLag {
  channel: string;
  /** Messages neither delivered nor given up on. */
  pending: number;
  /** How long the oldest of them has waited. */
  seconds: number;
}

interface OutboxRow {
  id: string;
  channel: string;
  dedupe_key: string;
  payload: JsonObject;
  attempts: number;
  created_at: string | Date;
}

const toMessage = (row: OutboxRow): OutboxMessage => ({
  id: Number(row.id),
  channel: row.channel,
  dedupeKey: row.dedupe_key,
  payload: row.payload,
  attempts: row.attempts,
  createdAt: new Date(row.created_at).toISOString(),
});

/** Queues a message; the same dedupe key twice queues it once. Takes a transaction's client so a message is queued with the change it tells about. */
export async function enqueueOutbox(db: Queryable, message: { channel: string; dedupeKey: string; payload: JsonObject }): Promise<boolean> {
  const inserted = await db.query('INSERT INTO outbox (channel, dedupe_key, payload) VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING', [
    message.channel,
    message.dedupeKey,
    toJsonb(message.payload),
  ]);
  return inserted.rowCount === 1;
}

/**
 * Messages waiting for their receiver. A claimed message is leased for `leaseSeconds`: a replica (or this
 * process after a crash) sends it again only after the lease ran out without an answer being recorded.
 */
export function createOutboxStore(pool: Pool) {
  return {
    enqueue: (message: { channel: string; dedupeKey: string; payload: JsonObject }) => enqueueOutbox(pool, message),

    /**
     * The next due message of a channel. Ordered channels (a chat thread) hand out only their oldest
     * pending message, so a reply never overtakes the card it answers; others hand out any due message.
     */
    async claim(channel: string, options: { ordered: boolean; leaseSeconds: number }): Promise<OutboxMessage | null> {
      const pick = options.ordered
        ? `SELECT id FROM (SELECT id, next_attempt_at FROM outbox WHERE channel = $1 AND delivered_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) head WHERE next_attempt_at <= now()`
        : `SELECT id FROM outbox WHERE channel = $1 AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;
      const claimed = await pool.query<OutboxRow>(
        `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2) WHERE id = (${pick}) RETURNING id, channel, dedupe_key, payload, attempts, created_at`,
        [channel, options.leaseSeconds],
      );
      return claimed.rows[0] ? toMessage(claimed.rows[0]) : null;
    },

    async delivered(id: number, result: JsonValue | null = null): Promise<void> {
      await pool.query('UPDATE outbox SET delivered_at = now(), last_error = NULL, result = $2 WHERE id = $1', [id, result === null ? null : toJsonb(result)]);
    },

    async retryLater(id: number, error: string, delaySeconds: number): Promise<void> {
      await pool.query('UPDATE outbox SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1', [id, error.slice(0, 2000), delaySeconds]);
    },

    /** The receiver refused it for good (a 4xx): sending again cannot help and would hold up the rest. */
    async refused(id: number, error: string): Promise<void> {
      await pool.query('UPDATE outbox SET failed_at = now(), last_error = $2 WHERE id = $1', [id, error.slice(0, 2000)]);
    },

    /** The answer recorded when a message was delivered (a Matrix event id), by dedupe key. */
    async resultOf(dedupeKey: string): Promise<JsonValue | null> {
      const found = await pool.query<{ result: JsonValue | null }>('SELECT result FROM outbox WHERE dedupe_key = $1 AND delivered_at IS NOT NULL', [dedupeKey]);
      return found.rows[0]?.result ?? null;
    },

    /** Delivered and refused messages older than this are only history; the audit chain keeps what happened. */
    async prune(olderThanDays: number): Promise<number> {
      const removed = await pool.query(
        'DELETE FROM outbox WHERE coalesce(delivered_at, failed_at) < now() - make_interval(days => $1)',
        [olderThanDays],
      );
      return removed.rowCount ?? 0;
    },

    /** Channels with nothing pending are left out. */
    async lag(): Promise<OutboxLag[]> {
      const rows = await pool.query<{ channel: string; pending: string; oldest: string | Date | null }>(
        `SELECT channel, count(*) AS pending, min(created_at) AS oldest
         FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL GROUP BY channel ORDER BY channel`,
      );
      return rows.rows.map((r) => ({ channel: r.channel, pending: Number(r.pending), seconds: r.oldest ? Math.max(0, (Date.now() - new Date(r.oldest).getTime()) / 1000) : 0 }));
    },
  };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;
