import { z } from 'zod';
import type { Pool } from '../database/database.js';
import { CLOSABLE_ON_RESOLVE, IntakeResultSchema, type IntakeResult, type RoutedNotification } from '../domain/incident.js';

const IntakeResultsSchema = z.array(IntakeResultSchema);
const BatchResultsSchema = z.array(z.unknown());

// responder_record_deliveries (migration 10) stores a list of deliveries, each exactly as
// responder_record_delivery (migration 3) stores one; one statement in autocommit is its own transaction.
// Named, so each pooled connection parses and plans it once.
const RECORD_DELIVERIES = 'SELECT responder_record_deliveries($1::jsonb, $2::text[]) AS results';
const RECORD_DELIVERIES_NAME = 'responder_record_deliveries';
const CLOSABLE = [...CLOSABLE_ON_RESOLVE];

// Two deliveries racing on one fingerprint (unique violation), a deadlock, or a serialization failure under a
// stricter default isolation: the whole statement rolled back, so running it again is safe.
const RETRYABLE = new Set(['23505', '40P01', '40001']);
const MAX_ATTEMPTS = 3;

export interface NotificationStoreOptions {
  /** Statements storing deliveries at once; more deliveries wait and go together in the next one. */
  maxInFlight?: number;
  /** At most this many deliveries, and (unless one alone is larger) this many alerts, in one statement. */
  maxBatchDeliveries?: number;
  maxBatchAlerts?: number;
}

interface Pending {
  json: string;
  fingerprints: string[];
  resolve(results: IntakeResult[]): void;
  reject(error: unknown): void;
}

export function createNotificationStore(pool: Pool, options: NotificationStoreOptions = {}) {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxBatchDeliveries = options.maxBatchDeliveries ?? 64;
  const maxBatchAlerts = options.maxBatchAlerts ?? 1000;

  async function recordJson(deliveriesJson: string): Promise<unknown[]> {
    const result = await pool.query<{ results: unknown }>({ name: RECORD_DELIVERIES_NAME, text: RECORD_DELIVERIES, values: [deliveriesJson, CLOSABLE] });
    return BatchResultsSchema.parse(result.rows[0]?.results);
  }

  /** One delivery in its own statement, retried as before batching: the answer, or the database's own error. */
  async function recordAlone(json: string): Promise<IntakeResult[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const [results] = await recordJson(`[${json}]`);
        return IntakeResultsSchema.parse(results);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt < MAX_ATTEMPTS && typeof code === 'string' && RETRYABLE.has(code)) continue;
        throw error;
      }
    }
  }

  function settle(pending: Pending, work: () => IntakeResult[]): void {
    try {
      pending.resolve(work());
    } catch (error) {
      pending.reject(error);
    }
  }

  // Deliveries waiting for a statement, in arrival order, and the fingerprints of those being stored.
  const queue: Pending[] = [];
  const storing = new Map<string, number>();
  let inFlight = 0;
  let pumpScheduled = false;

  /**
   * Stores one batch. Its slot and fingerprints are freed, and the next statement started, as soon as this one
   * has finished and before anyone is answered, so the database works while this process writes the answers.
   */
  async function run(batch: Pending[]): Promise<void> {
    const finish = () => {
      inFlight -= 1;
      for (const pending of batch) {
        for (const fingerprint of pending.fingerprints) {
          const left = storing.get(fingerprint)! - 1;
          if (left === 0) storing.delete(fingerprint);
          else storing.set(fingerprint, left);
        }
      }
      pump();
    };
    if (batch.length > 1) {
      let answers: unknown[] | null = null;
      try {
        answers = await recordJson(`[${batch.map((pending) => pending.json).join(',')}]`);
        if (answers.length !== batch.length) throw new Error(`responder_record_deliveries answered ${answers.length} results for ${batch.length} deliveries`);
      } catch {
        // The statement rolled back as a whole (one delivery the database refuses, a deadlock with another
        // replica, a lost connection): each delivery goes again alone and gets its own answer or error.
        answers = null;
      }
      if (answers) {
        const stored = answers;
        finish();
        batch.forEach((pending, i) => settle(pending, () => IntakeResultsSchema.parse(stored[i])));
        return;
      }
    }
    const outcomes = await Promise.allSettled(batch.map((pending) => recordAlone(pending.json)));
    finish();
    outcomes.forEach((outcome, i) => (outcome.status === 'fulfilled' ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(outcome.reason)));
  }

  // A delivery that arrives starts a statement at the end of the event loop's turn, not at once: the requests
  // read in the same turn go together instead of the first alone and the rest in the next statement.
  function schedulePump(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  /**
   * The next statement's deliveries, oldest first. A delivery sharing a fingerprint with one being stored
   * or with an older waiting one stays queued, so each fingerprint's deliveries are stored one after the
   * other in arrival order, never two in one statement.
   */
  function takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const blocked = new Set<string>();
    let alerts = 0;
    let kept = 0;
    for (const pending of queue) {
      const free = pending.fingerprints.every((fingerprint) => !storing.has(fingerprint) && !blocked.has(fingerprint));
      const fits = batch.length === 0 || (batch.length < maxBatchDeliveries && alerts + pending.fingerprints.length <= maxBatchAlerts);
      for (const fingerprint of pending.fingerprints) blocked.add(fingerprint);
      if (free && fits) {
        batch.push(pending);
        alerts += pending.fingerprints.length;
      } else {
        queue[kept++] = pending;
      }
    }
    queue.length = kept;
    return batch;
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      if (batch.length === 0) return;
      inFlight += 1;
      for (const pending of batch) for (const fingerprint of pending.fingerprints) storing.set(fingerprint, (storing.get(fingerprint) ?? 0) + 1);
      void run(batch);
    }
  }

  return {
    /**
     * Stores a whole routed delivery in one round trip: all of it commits, or none of it does. Answers one
     * result per alert, in fingerprint order. Its strings must hold no U+0000 or lone surrogate (parseWebhook
     * sees to that): jsonb refuses them.
     *
     * Group commit: while `maxInFlight` statements are running, deliveries that arrive wait and then go
     * together in one statement (one transaction) of their own. Each delivery is still stored whole or not at
     * all and answered only after its transaction committed; if that statement fails, each of its
     * deliveries is stored again alone.
     */
    record(delivery: RoutedNotification): Promise<IntakeResult[]> {
      return new Promise<IntakeResult[]>((resolve, reject) => {
        queue.push({ json: JSON.stringify(delivery), fingerprints: delivery.alerts.map((alert) => alert.fingerprint), resolve, reject });
        schedulePump();
      });
    },
  };
}

export type NotificationStore = ReturnType<typeof createNotificationStore>;
