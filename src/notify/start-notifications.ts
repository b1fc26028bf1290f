import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import type { Incident } from '../domain/incident-record.js';
import type { JsonObject } from '../domain/json-value.js';
import { enqueueOutbox, type OutboxStore } from '../store/outbox.js';
import { createWakeablePause } from '../supervision/wakeable-pause.js';
import { noticeFor, type IncidentNotice, type NoticeKind } from './incident-notice.js';
import { deliverNtfy, deliverWebhook, ntfyBody, webhookBody } from './notice-senders.js';
import { startOutboxWorker, type OutboxWorker, type OutboxWorkerOptions } from './outbox-worker.js';

export interface NotifySettings {
  webhooks: readonly { name: string; url: string; events: readonly NoticeKind[] }[];
  ntfy: readonly { name: string; url: string; token?: string; priority: number; events: readonly NoticeKind[] }[];
  maxBackoffMs: number;
  publicUrl: string | null;
  /** How often the chain and the outbox are looked at when nothing kicked (tests shorten it). */
  pollMs?: number;
}

/** Something else that wants to hear about incidents (the Matrix card's thread). Called at least once per notice. */
export interface NoticeSubscriber {
  onNotice(notice: IncidentNotice, seq: number): Promise<void>;
}

interface NoticeChannel {
  /** The outbox channel: webhook:<name> or ntfy:<name>. */
  name: string;
  events: readonly NoticeKind[];
  body(notice: IncidentNotice): JsonObject;
  deliver: OutboxWorkerOptions['deliver'];
}

const POSITION = 'notify';
// Sent messages are kept a while to answer "did the phone get it?", then pruned, Matrix's included.
const KEEP_DAYS = 30;
const PRUNE_INTERVAL_MS = 3_600_000;
const NEWS = ['incident.state', 'approval.requested'];

export interface Notifications {
  /** The outbox channels notices go to, for /metrics. */
  readonly channels: string[];
  kick(): void;
  stop(): Promise<void>;
}

/**
 * Reads the sealed audit chain from where it left off, turns its news into notices and queues one
 * message per interested channel in the same transaction that moves the position: each notice is queued
 * exactly once, across restarts and replicas. The outbox workers then deliver them, retrying with backoff.
 */
export function startNotifications(options: {
  pool: Pool;
  outbox: OutboxStore;
  incidents: { get(id: string): Promise<Incident | null> };
  settings: NotifySettings;
  subscribers: readonly NoticeSubscriber[];
  log: OutboxWorkerOptions['log'];
}): Notifications {
  const { pool, settings, log } = options;
  const channels: NoticeChannel[] = [
    ...settings.webhooks.map((w) => ({ name: `webhook:${w.name}`, events: w.events, body: webhookBody, deliver: deliverWebhook(w.url) })),
    ...settings.ntfy.map((n) => ({ name: `ntfy:${n.name}`, events: n.events, body: (notice: IncidentNotice) => ntfyBody(notice, n.url, n.priority).body, deliver: deliverNtfy(n.url, n.token) })),
  ];
  const workers: OutboxWorker[] = channels.map((channel) =>
    startOutboxWorker({ outbox: options.outbox, channel: channel.name, ordered: false, deliver: channel.deliver, maxBackoffMs: settings.maxBackoffMs, pollMs: settings.pollMs, log }),
  );

  async function dispatchBatch(): Promise<boolean> {
    // A fresh install starts at the chain's head: history is not news.
    await pool.query(`INSERT INTO audit_shipping (destination, shipped_seq) SELECT $1, coalesce(max(seq), 0) FROM audit_events ON CONFLICT (destination) DO NOTHING`, [POSITION]);
    let told = 0;
    const more = await withTransaction(pool, async (client) => {
      const position = await client.query<{ shipped_seq: string }>('SELECT shipped_seq FROM audit_shipping WHERE destination = $1 FOR UPDATE SKIP LOCKED', [POSITION]);
      if (!position.rows[0]) return false;
      const events = await client.query<{ seq: string; incident_id: string | null; kind: string; data: unknown }>(
        'SELECT seq, incident_id, kind, data FROM audit_events WHERE seq > $1 AND kind = ANY($2) ORDER BY seq LIMIT 100',
        [position.rows[0].shipped_seq, NEWS],
      );
      if (events.rows.length === 0) return false;
      for (const event of events.rows) {
        const incident = event.incident_id ? await options.incidents.get(event.incident_id) : null;
        const notice = incident ? noticeFor(event, incident, settings.publicUrl) : null;
        if (!notice) continue;
        const seq = Number(event.seq);
        told += 1;
        for (const channel of channels) {
          if (channel.events.includes(notice.kind)) await enqueueOutbox(client, { channel: channel.name, dedupeKey: `${channel.name}:${seq}`, payload: channel.body(notice) });
        }
        // Before the position moves: a crash here tells the subscriber again, which its own keys make harmless.
        for (const subscriber of options.subscribers) {
          await subscriber.onNotice(notice, seq).catch((error: unknown) => log.warn({ err: error, incident: notice.incidentId }, 'a notice subscriber failed'));
        }
      }
      await client.query('UPDATE audit_shipping SET shipped_seq = $2, updated_at = now() WHERE destination = $1', [POSITION, events.rows.at(-1)!.seq]);
      return events.rows.length === 100;
    });
    if (told > 0) for (const worker of workers) worker.kick();
    return more;
  }

  let stopped = false;
  const idle = createWakeablePause();
  let prunedAt = 0;
  const loop = (async () => {
    let failures = 0;
    while (!stopped) {
      let more = false;
      try {
        if (Date.now() - prunedAt > PRUNE_INTERVAL_MS) {
          prunedAt = Date.now();
          await options.outbox.prune(KEEP_DAYS);
        }
        more = await dispatchBatch();
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 10 === 0) log.warn({ err: error }, 'could not read incident news from the audit chain; retrying');
      }
      if (stopped || more) continue;
      await idle.sleep(settings.pollMs ?? 1000);
    }
  })();

  return {
    channels: channels.map((c) => c.name),
    kick: () => idle.wake(),
    async stop() {
      stopped = true;
      idle.wake();
      await loop;
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}
