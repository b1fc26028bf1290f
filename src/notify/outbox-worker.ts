import type { JsonValue } from '../domain/json-value.js';
import type { OutboxMessage, OutboxStore } from '../store/outbox.js';
import { createWakeablePause } from '../supervision/wakeable-pause.js';

/** What a receiver did with one message. */
export type DeliveryOutcome =
  | { kind: 'delivered'; result?: JsonValue }
  /** Down, overloaded, rate-limiting: try again later. */
  | { kind: 'retry'; error: string }
  /** Refused for good (the message itself is wrong, or the credentials are): never resent. */
  | { kind: 'refused'; error: string };

export interface OutboxWorkerOptions {
  outbox: Pick<OutboxStore, 'claim' | 'delivered' | 'retryLater' | 'refused'>;
  channel: string;
  /** Deliver one at a time, oldest first, and wait behind a failing one (a chat thread must stay in order). */
  ordered: boolean;
  deliver(message: OutboxMessage): Promise<DeliveryOutcome>;
  /** Waits 1 s, 2 s, 4 s, … after failed attempts of a message, up to this. */
  maxBackoffMs: number;
  /** How often to look for due messages when nobody kicked. */
  pollMs?: number;
  log: { info(details: Record<string, unknown>, message: string): void; warn(details: Record<string, unknown>, message: string): void; error(details: Record<string, unknown>, message: string): void };
}

export interface OutboxWorker {
  /** Look now: something was queued. */
  kick(): void;
  stop(): Promise<void>;
}

const LEASE_SECONDS = 60;

export function backoffSeconds(attempts: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 20)) / 1000;
}

/**
 * Sends a channel's queued messages until stopped, from the database, so a restart or a replica picks up
 * what was left. A receiver that is down costs nothing but time: each message waits with growing backoff.
 */
export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  let stopped = false;
  const idle = createWakeablePause();
  let kicked = false;
  let failing = 0;

  async function deliverOne(): Promise<boolean> {
    const message = await options.outbox.claim(options.channel, { ordered: options.ordered, leaseSeconds: LEASE_SECONDS });
    if (!message) return false;
    let outcome: DeliveryOutcome;
    try {
      outcome = await options.deliver(message);
    } catch (error) {
      outcome = { kind: 'retry', error: (error as Error).message };
    }
    if (outcome.kind === 'delivered') {
      await options.outbox.delivered(message.id, outcome.result ?? null);
      if (failing > 0) options.log.info({ channel: options.channel, attempts: message.attempts }, 'the receiver takes messages again; catching up');
      failing = 0;
      return true;
    }
    if (outcome.kind === 'refused') {
      await options.outbox.refused(message.id, outcome.error);
      options.log.error({ channel: options.channel, message: message.dedupeKey, reason: outcome.error }, 'the receiver refused a message for good; it is kept, marked failed');
      return true;
    }
    await options.outbox.retryLater(message.id, outcome.error, backoffSeconds(message.attempts, options.maxBackoffMs));
    failing += 1;
    if (failing === 1 || failing % 10 === 0) {
      options.log.warn({ channel: options.channel, message: message.dedupeKey, attempts: message.attempts, reason: outcome.error }, 'could not deliver a message; it waits in the outbox and is retried');
    }
    // An ordered channel waits behind this message; others go on with the next due one.
    return !options.ordered;
  }

  const loop = async () => {
    while (!stopped) {
      kicked = false;
      let more = false;
      try {
        more = await deliverOne();
      } catch (error) {
        options.log.warn({ channel: options.channel, err: error }, 'outbox could not be read; retrying');
      }
      if (stopped) return;
      if (more || kicked) continue;
      await idle.sleep(options.pollMs ?? 1000);
    }
  };
  const running = loop();
  return {
    kick() {
      kicked = true;
      idle.wake();
    },
    async stop() {
      stopped = true;
      idle.wake();
      await running;
    },
  };
}
