import type { Config } from '../config/config.schema.js';
import type { Pool } from '../database/database.js';
import type { IncidentRecord } from '../domain/incident-record.js';
import { anchorFileIn, appendAnchor, createAnchor } from './anchors.js';
import type { AuditKey } from './audit-key.js';
import { isFinalStateEvent, summarizeIncident } from './incident-summary.js';
import { createLokiPusher, type LokiPusher } from './loki-push.js';
import { startLokiShipper, type LokiShipper, type ShipperLog, type ShippingLag } from './loki-shipper.js';
import { startAuditSealer, type SealedEventNotice } from './seal.js';

export interface AuditTrailOptions {
  pool: Pool;
  key: AuditKey;
  /** The local append-only file of chain heads. */
  anchorFile: string;
  anchorIntervalMs: number;
  /** Null: no Loki configured, or audit.loki.enabled is false. */
  loki: { pusher: LokiPusher; batchSize: number; maxBackoffMs: number } | null;
  /** For the summary line of each finished incident. */
  records: { get(id: string): Promise<IncidentRecord | null> };
  log: ShipperLog;
  sealIntervalMs?: number;
}

export interface AuditTrail {
  /** Writes the current chain head to the anchor file unless it is already the newest anchor there. */
  anchorNow(): Promise<void>;
  /** Null when nothing is shipped. */
  shippingLag(): Promise<ShippingLag> | null;
  /** Seals what is left, anchors the final head and stops shipping (it resumes from there at the next start). */
  stop(): Promise<void>;
}

/**
 * Everything that keeps the chain and proves it off the database: the sealer, the anchors in the local
 * file (on an interval when the head moved, and as soon as an incident reaches a final state), and the
 * Loki shipper, which carries events, summaries and its own anchors.
 */
export function startAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { pool, key, log } = options;
  let anchoring: Promise<void> = Promise.resolve();
  let anchored: { seq: number; hash: string } | null = null;

  const writeAnchor = async () => {
    const head = (await pool.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1')).rows[0];
    if (!head || (anchored && anchored.seq === head.seq && anchored.hash === head.hash)) return;
    appendAnchor(options.anchorFile, createAnchor(head, key));
    anchored = { seq: head.seq, hash: head.hash };
  };
  // One write at a time, in order; a failure is reported and the next attempt tries again.
  const anchorNow = () => {
    anchoring = anchoring.then(writeAnchor).catch((error: unknown) => log.error({ err: error, file: options.anchorFile }, 'could not write the audit anchor; will retry'));
    return anchoring;
  };

  const shipper: LokiShipper | null = options.loki
    ? startLokiShipper({
        pool,
        key,
        pusher: options.loki.pusher,
        batchSize: options.loki.batchSize,
        maxBackoffMs: options.loki.maxBackoffMs,
        summarize: async (incidentId) => {
          // The summary is a convenience beside the events: an incident it cannot be built for must not hold up shipping.
          try {
            const record = await options.records.get(incidentId);
            return record ? summarizeIncident(record) : null;
          } catch (error) {
            log.error({ err: error, incident: incidentId }, 'could not build the incident summary for Loki; its events are shipped without it');
            return null;
          }
        },
        log,
      })
    : null;

  const onSealed = (events: SealedEventNotice[]) => {
    if (events.some(isFinalStateEvent)) void anchorNow();
    shipper?.kick();
  };
  const sealer = startAuditSealer(pool, key, {
    intervalMs: options.sealIntervalMs,
    onSealed,
    onError: (error) => log.error({ err: error }, 'sealing audit events failed; will retry'),
  });
  const timer = setInterval(() => void anchorNow(), options.anchorIntervalMs);
  timer.unref();
  void anchorNow();

  return {
    anchorNow,
    shippingLag: () => shipper?.lag() ?? null,
    async stop() {
      clearInterval(timer);
      await sealer.stop();
      await anchorNow();
      await shipper?.stop();
    },
  };
}

/** The trail as configured: anchors in dataDir, shipping to loki.url unless audit.loki.enabled is false. */
export function startConfiguredAuditTrail(options: {
  pool: Pool;
  key: AuditKey;
  dataDir: string;
  audit: Config['audit'];
  loki: Config['loki'];
  records: AuditTrailOptions['records'];
  log: ShipperLog;
}): AuditTrail {
  const { audit, loki } = options;
  return startAuditTrail({
    pool: options.pool,
    key: options.key,
    anchorFile: anchorFileIn(options.dataDir),
    anchorIntervalMs: audit.anchorIntervalSeconds * 1000,
    loki:
      loki.url && audit.loki.enabled
        ? {
            pusher: createLokiPusher({ url: loki.url, tenantId: loki.tenantId, timeoutMs: loki.timeoutMs }),
            batchSize: audit.loki.batchSize,
            maxBackoffMs: audit.loki.maxBackoffSeconds * 1000,
          }
        : null,
    records: options.records,
    log: options.log,
  });
}
