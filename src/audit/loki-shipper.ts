import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { createWakeablePause } from '../supervision/wakeable-pause.js';
import { createAnchor } from './anchors.js';
import type { AuditKey } from './audit-key.js';
import { appendAuditEvent } from './audit-store.js';
import { isFinalStateEvent, type IncidentAuditSummary } from './incident-summary.js';
import type { LokiEntry, LokiPusher } from './loki-push.js';
import { chainEventFromRow, type ChainRow } from './verify.js';

const DESTINATION = 'loki';
// Loki's default gRPC limit is 4 MiB per push; stay well below it whatever the events hold.
const MAX_PUSH_BYTES = 1024 * 1024;
const SERVICE_NAME = 'responder';

export interface ShipperLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

export interface LokiShipperOptions {
  pool: Pool;
  /** Signs the anchor that ends every push. */
  key: AuditKey;
  pusher: LokiPusher;
  /** The summary line of a finished incident; null leaves it out (the incident is gone). */
  summarize(incidentId: string): Promise<IncidentAuditSummary | null>;
  batchSize: number;
  maxBackoffMs: number;
  /** The pause when everything is shipped (5 s); kick() ends it early. */
  idleMs?: number;
  log: ShipperLog;
}

export type ShipResult =
  | { kind: 'shipped'; events: number; lastSeq: number; more: boolean }
  | { kind: 'refused'; fromSeq: number; toSeq: number; status: number; message: string }
  | { kind: 'unavailable'; status: number | null; message: string }
  | { kind: 'retry' }
  | { kind: 'idle' }
  | { kind: 'busy' };

export interface ShippingLag {
  /** Sealed events not yet shipped. */
  events: number;
  /** How long the oldest of them has waited. */
  seconds: number;
}

/** Shipped rows are sealed: their seq and hashes are set. */
type EventRow = ChainRow & { prev_hash: string; hash: string };

function nanoseconds(date: Date | string): string {
  return (BigInt(new Date(date).getTime()) * 1_000_000n).toString();
}

function metadataOf(row: EventRow): Record<string, string> {
  return row.incident_id ? { incident_id: row.incident_id, seq: String(row.seq) } : { seq: String(row.seq) };
}

/**
 * Ships the next batch after the shipped position: each event as its export line (stream kind=<event kind>),
 * a summary line for each incident the batch finishes (kind=incident.summary), and an anchor of the batch's
 * last event (kind=audit.anchor). The position row is locked for the push, so replicas never ship the same
 * batch twice at once, and it only moves once Loki has answered: a crash mid-push ships the batch again,
 * which Loki ignores for entries it already holds (same timestamp and line).
 */
export async function shipNextBatch(options: LokiShipperOptions, state: { structuredMetadata: boolean }): Promise<ShipResult> {
  const { pool } = options;
  await pool.query('INSERT INTO audit_shipping (destination) VALUES ($1) ON CONFLICT (destination) DO NOTHING', [DESTINATION]);
  return withTransaction(pool, async (client) => {
    const position = await client.query<{ shipped_seq: number }>('SELECT shipped_seq FROM audit_shipping WHERE destination = $1 FOR UPDATE SKIP LOCKED', [DESTINATION]);
    if (!position.rows[0]) return { kind: 'busy' as const };
    const shipped = position.rows[0].shipped_seq;
    const rows = await client.query<EventRow>(
      'SELECT id, seq, incident_id, at, actor, kind, data, prev_hash, hash, key_id FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [shipped, options.batchSize],
    );
    if (rows.rows.length === 0) return { kind: 'idle' as const };

    const entries: LokiEntry[] = [];
    let bytes = 0;
    let last: EventRow | undefined;
    for (const row of rows.rows) {
      if (last && bytes > MAX_PUSH_BYTES) break;
      const line = JSON.stringify(chainEventFromRow(row));
      bytes += Buffer.byteLength(line);
      entries.push({ labels: { service_name: SERVICE_NAME, kind: row.kind }, ns: nanoseconds(row.at), line, metadata: metadataOf(row) });
      if (row.incident_id && isFinalStateEvent(row)) {
        const summary = await options.summarize(row.incident_id);
        if (summary) {
          const summaryLine = JSON.stringify({ ...summary, seq: row.seq, hash: row.hash });
          bytes += Buffer.byteLength(summaryLine);
          entries.push({ labels: { service_name: SERVICE_NAME, kind: 'incident.summary' }, ns: nanoseconds(row.at), line: summaryLine, metadata: metadataOf(row) });
        }
      }
      last = row;
    }
    const head = last!;
    const anchor = createAnchor({ seq: head.seq, hash: head.hash }, options.key);
    entries.push({ labels: { service_name: SERVICE_NAME, kind: 'audit.anchor' }, ns: nanoseconds(anchor.at), line: JSON.stringify(anchor), metadata: { seq: String(head.seq) } });
    const count = head.seq - shipped;

    const outcome = await options.pusher.push(entries, { structuredMetadata: state.structuredMetadata });
    if (outcome.kind === 'unavailable') return outcome;
    if (outcome.kind === 'refused') {
      if (state.structuredMetadata && outcome.status === 400 && /structured metadata/i.test(outcome.message)) {
        // Loki 2.x, or 3.x with allow_structured_metadata off: the incident id and seq are in every line anyway.
        state.structuredMetadata = false;
        options.log.warn({ message: outcome.message }, 'Loki refuses structured metadata; shipping audit events without it');
        return { kind: 'retry' as const };
      }
      const fromSeq = shipped + 1;
      // Refused for good (an entry too old or too long, a malformed request): sending it again cannot help, and
      // holding it would stop everything behind it. The events stay in the database and in exports; the chain says so.
      await appendAuditEvent(client, {
        incidentId: null,
        actor: 'responder',
        kind: 'audit.shipping.refused',
        data: { destination: DESTINATION, fromSeq, toSeq: head.seq, status: outcome.status, message: outcome.message },
      });
      await client.query('UPDATE audit_shipping SET shipped_seq = $2, updated_at = now() WHERE destination = $1', [DESTINATION, head.seq]);
      return { kind: 'refused' as const, fromSeq, toSeq: head.seq, status: outcome.status, message: outcome.message };
    }
    await client.query('UPDATE audit_shipping SET shipped_seq = $2, updated_at = now() WHERE destination = $1', [DESTINATION, head.seq]);
    return { kind: 'shipped' as const, events: count, lastSeq: head.seq, more: head.seq < rows.rows.at(-1)!.seq || rows.rows.length === options.batchSize };
  });
}

export async function lokiShippingLag(pool: Pool): Promise<ShippingLag> {
  const result = await pool.query<{ head: number; shipped: number; oldest: string | null }>(
    `WITH position AS (SELECT coalesce((SELECT shipped_seq FROM audit_shipping WHERE destination = $1), 0) AS shipped)
     SELECT coalesce((SELECT max(seq) FROM audit_events), 0) AS head, position.shipped,
            (SELECT at FROM audit_events WHERE seq = position.shipped + 1) AS oldest
     FROM position`,
    [DESTINATION],
  );
  const row = result.rows[0]!;
  return { events: Math.max(0, row.head - row.shipped), seconds: row.oldest ? Math.max(0, (Date.now() - Date.parse(row.oldest)) / 1000) : 0 };
}

export interface LokiShipper {
  /** Ship soon: something worth shipping was sealed. */
  kick(): void;
  lag(): Promise<ShippingLag>;
  stop(): Promise<void>;
}

/**
 * Ships the chain to Loki in the background, from where it left off (also across restarts), until stopped.
 * While Loki is unreachable it waits 1 s, 2 s, 4 s, … up to maxBackoffMs between attempts and loses nothing.
 */
export function startLokiShipper(options: LokiShipperOptions): LokiShipper {
  const state = { structuredMetadata: true };
  let stopped = false;
  const idle = createWakeablePause();
  let backingOff = false;
  // A kick while a batch is in flight must not be lost to the idle pause that follows it.
  let kicked = false;

  const loop = async () => {
    let failures = 0;
    while (!stopped) {
      kicked = false;
      let result: ShipResult;
      try {
        result = await shipNextBatch(options, state);
      } catch (error) {
        result = { kind: 'unavailable', status: null, message: `shipping failed: ${(error as Error).message}` };
      }
      if (stopped) return;
      if (result.kind === 'unavailable') {
        failures += 1;
        if (failures === 1 || failures % 10 === 0) {
          options.log.warn({ status: result.status, reason: result.message, attempts: failures }, 'Loki is not taking audit events; they wait in the database and are shipped when it is back');
        }
        backingOff = true;
        await idle.sleep(Math.min(options.maxBackoffMs, 1000 * 2 ** Math.min(failures - 1, 20)));
        backingOff = false;
        continue;
      }
      if (failures > 0) options.log.info({ attempts: failures }, 'Loki takes audit events again; catching up');
      failures = 0;
      if (result.kind === 'refused') {
        options.log.error({ status: result.status, reason: result.message, fromSeq: result.fromSeq, toSeq: result.toSeq }, 'Loki refused a batch of audit events; moving past it (recorded as audit.shipping.refused)');
        continue;
      }
      if (result.kind === 'retry' || kicked || (result.kind === 'shipped' && result.more)) continue;
      await idle.sleep(options.idleMs ?? 5000);
    }
  };
  const running = loop();
  return {
    kick() {
      if (backingOff) return;
      kicked = true;
      idle.wake();
    },
    lag: () => lokiShippingLag(options.pool),
    async stop() {
      stopped = true;
      idle.wake();
      await running;
    },
  };
}
