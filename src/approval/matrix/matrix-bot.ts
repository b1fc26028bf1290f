import type { Logger } from 'pino';
import type { ApprovalRequest } from '../../domain/approval.js';
import type { Identity, Role } from '../../domain/identity.js';
import type { JsonObject } from '../../domain/json-value.js';
import { startOutboxWorker, type OutboxWorker } from '../../notify/outbox-worker.js';
import { MATRIX_OUTBOX_CHANNEL, type MatrixCard, type MatrixCardStore } from '../../store/matrix-cards.js';
import type { OutboxStore } from '../../store/outbox.js';
import type { DecisionOutcome, DecisionSubmission } from '../submit-decision.js';
import type { WithdrawalOutcome } from '../withdraw-decision.js';
import { decisionsLine, shortId, threadLine } from './approval-card.js';
import { createMatrixApprovalChannel, deliverMatrixMessage, type MatrixApprovalChannel } from './matrix-approval-channel.js';
import { connectMatrix, type MatrixConnection } from './matrix-client.js';
import { readIntent, requestIdPrefix, RoomEventSchema } from './matrix-inbound.js';
import { defuse } from './matrix-text.js';
import { createWakeablePause } from '../../supervision/wakeable-pause.js';

// How far back the room is read after a restart: from the oldest open card, less the homeserver's clock
// possibly running behind the database's, and never more than this many events.
const CATCH_UP_SKEW_MS = 5 * 60_000;
const CATCH_UP_LIMIT = 2000;

// Tries of one event, 0.5 + 1 + 2 + 4 s apart: a database restart, not an outage.
const HANDLE_ATTEMPTS = 5;
const HANDLE_RETRY_BASE_MS = 500;

export interface MatrixBotSettings {
  homeserverUrl: string;
  accessToken: string;
  roomId: string;
  users: readonly { matrixId: string; name: string; role: Role }[];
  publicUrl: string | null;
  maxBackoffMs: number;
  /** Room events handed out by the first sync after a start: what happened while the bot was away. */
  initialSyncLimit?: number;
  /** How often the outbox is looked at when nothing was queued (tests shorten it). */
  pollMs?: number;
}

export interface MatrixBotDeps {
  cards: MatrixCardStore;
  outbox: OutboxStore;
  approvals: { get(id: string): Promise<ApprovalRequest | null> };
  decide(submission: DecisionSubmission): Promise<DecisionOutcome>;
  withdraw(submission: { requestId: string; identity: Identity; channel: 'matrix' }): Promise<WithdrawalOutcome>;
  log: Logger;
  /** Connects to the homeserver; matrix-js-sdk unless a test says otherwise. */
  connect?: typeof connectMatrix;
}

export interface MatrixBot {
  channel: MatrixApprovalChannel;
  /** Resolves when every event received so far has been handled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const STATE_WORDS: Record<ApprovalRequest['state'], string> = {
  open: 'waiting for decisions',
  approved: 'approved',
  rejected: 'rejected',
  superseded: 'superseded by a modified request',
  expired: 'expired',
  closed: 'closed',
};

/**
 * The Matrix approval bot: posts cards through the outbox, and turns ✅/❌ reactions, their redactions and
 * !approve / !reject / !status commands from the configured room into decisions through submitDecision.
 * Only users in matrix.users count, as the Responder identity they are mapped to; anyone else is told
 * so in the thread and nothing changes. The homeserver being down delays messages and nothing else.
 */
export function startMatrixBot(settings: MatrixBotSettings, deps: MatrixBotDeps): MatrixBot {
  const { cards, log } = deps;
  const people = new Map(settings.users.map((u) => [u.matrixId, { name: u.name, role: u.role, source: 'matrix' as const }]));
  let connection: MatrixConnection | null = null;
  let stopped = false;
  // The reconnect backoff and the retries of a failed event, both ended at once by stop().
  const pause = createWakeablePause();

  const worker: OutboxWorker = startOutboxWorker({
    outbox: deps.outbox,
    channel: MATRIX_OUTBOX_CHANNEL,
    ordered: true,
    maxBackoffMs: settings.maxBackoffMs,
    pollMs: settings.pollMs,
    deliver: (message) => deliverMatrixMessage(message, { connection, cards, roomId: settings.roomId }),
    log,
  });
  const channel = createMatrixApprovalChannel({ cards, settings: { roomId: settings.roomId, publicUrl: settings.publicUrl }, kick: () => worker.kick() });

  const reply = async (eventId: string, rootEventId: string, text: string) => {
    await cards.queue(`reply:${eventId}`, { kind: 'reply', rootEventId, content: threadLine(text) as unknown as JsonObject });
    worker.kick();
  };
  // Once per stranger and thread: someone who is not listed cannot make the bot flood the room by reacting.
  const refuseStranger = async (sender: string, rootEventId: string) => {
    await cards.queue(`stranger:${sender}:${rootEventId}`, {
      kind: 'reply',
      rootEventId,
      content: threadLine(`${defuse(sender)} is not on Responder's list of Matrix approvers; nothing changed.`) as unknown as JsonObject,
    });
    worker.kick();
  };

  async function cardFor(id: string | null, threadRoot: string | null): Promise<MatrixCard | string> {
    if (id === null) {
      const inThread = threadRoot ? await cards.byEvent(threadRoot) : null;
      return inThread ?? 'name the card: the id after "request" on it, e.g. !status 1a2b3c4d';
    }
    const prefix = requestIdPrefix(id);
    if (!prefix) return `"${id}" is not a request id; use the id after "request" on the card`;
    const found = await cards.byRequestPrefix(prefix);
    if (found.length === 0) return `no card with request id ${id}`;
    if (found.length > 1) return `request id ${id} matches several cards; type more of it`;
    return found[0]!;
  }

  async function decide(identity: Identity, target: MatrixCard, approved: boolean, reason: string): Promise<DecisionOutcome> {
    return deps.decide({ incidentId: target.incidentId, identity, channel: 'matrix', input: { requestId: target.requestId, approved, reason } });
  }

  async function handle(raw: unknown): Promise<void> {
    const parsed = RoomEventSchema.safeParse(raw);
    if (!parsed.success) return;
    const event = parsed.data;
    // Another room, or the bot's own messages: never commands.
    if (event.room_id !== settings.roomId || event.sender === connection?.userId) return;
    const intent = readIntent(event);
    if (intent.kind === 'ignore') return;
    if (!(await cards.claim(event.event_id))) return;
    const identity = people.get(event.sender) ?? null;

    if (intent.kind === 'vote') {
      const target = await cards.byEvent(intent.cardEventId);
      // A reaction on anything but a card means nothing here.
      if (target) {
        if (!identity) {
          await refuseStranger(event.sender, intent.cardEventId);
        } else {
          const outcome = await decide(identity, target, intent.approved, intent.approved ? '✅ in Matrix' : '❌ in Matrix');
          if (outcome.kind === 'recorded' && intent.approved) {
            await cards.rememberReaction({ eventId: event.event_id, requestId: target.requestId, sender: event.sender, approver: identity.name });
          } else if (outcome.kind === 'refused') {
            await reply(event.event_id, intent.cardEventId, `${identity.name}: not counted (${outcome.code}): ${outcome.detail}`);
          }
        }
      }
    } else if (intent.kind === 'redaction') {
      const reaction = await cards.reaction(intent.redacts);
      // Only the person who reacted takes their own approval back.
      if (reaction && reaction.sender === event.sender && identity) {
        const outcome = await deps.withdraw({ requestId: reaction.requestId, identity, channel: 'matrix' });
        const target = await cards.byRequest(reaction.requestId);
        if (target?.eventId) {
          await reply(
            event.event_id,
            target.eventId,
            outcome.kind === 'withdrawn' ? `${identity.name} withdrew their approval.` : `${identity.name}: the approval stays (${outcome.code}): ${outcome.detail}`,
          );
        }
      }
    } else {
      const root = intent.threadRoot ?? event.event_id;
      if (!identity) {
        await refuseStranger(event.sender, root);
      } else {
        const target = await cardFor(intent.id, intent.threadRoot);
        if (typeof target === 'string') {
          await reply(event.event_id, root, target);
        } else if (intent.command === 'status') {
          const request = await deps.approvals.get(target.requestId);
          if (request) {
            await reply(
              event.event_id,
              root,
              `Request ${shortId(request.id)} (round ${request.round}): ${STATE_WORDS[request.state]}; approvals ${request.decisions.filter((d) => d.approved).length} of ${request.approvalsRequired} — ${decisionsLine(request)}; deadline ${request.deadline}`,
            );
          }
        } else if (intent.command === 'reject' && !intent.reason) {
          await reply(event.event_id, root, `say why: !reject ${target.shortId} <reason> (the reason goes into the audit trail)`);
        } else {
          const outcome = await decide(identity, target, intent.command === 'approve', intent.reason || 'approved in Matrix');
          if (outcome.kind === 'refused') await reply(event.event_id, root, `${identity.name}: not counted (${outcome.code}): ${outcome.detail}`);
        }
      }
    }
  }

  /**
   * The sync has moved past an event by the time it is handled, so a failure (the database away for a moment)
   * would lose a person's ✅ for good. The claim is released and the event tried again a few times; what
   * it had already recorded is refused the second time as a repeat, so nothing counts twice.
   */
  async function handleWithRetries(raw: unknown): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handle(raw);
        return;
      } catch (error) {
        const eventId = (raw as { event_id?: unknown } | null)?.event_id;
        if (typeof eventId === 'string') await cards.release(eventId).catch(() => {});
        if (stopped || attempt >= HANDLE_ATTEMPTS) throw error;
        log.warn({ err: error, event: eventId, attempt }, 'could not handle a Matrix event; trying again');
        await pause.sleep(HANDLE_RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  // One event at a time, in timeline order: a redaction must not overtake the reaction it takes back.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (raw: unknown) => {
    queue = queue
      .then(() => handleWithRetries(raw))
      .catch((error: unknown) => log.error({ err: error }, 'could not handle a Matrix event; the person has to react or type it again'));
  };

  /**
   * The first sync after a restart hands out only the newest events of the room. Reactions and commands
   * given while Responder was down can only be about a request still open, so the room's history back to
   * its oldest open card is read first and handled in order, before anything live: a ✅ and the redaction
   * that took it back meanwhile are seen in the order they were given (a redacted ✅ has no content left).
   * Events handled before are claimed already and change nothing.
   */
  async function catchUp(connected: MatrixConnection): Promise<void> {
    try {
      const since = await cards.oldestOpenCardAt();
      if (!since) return;
      const missed = await connected.history(settings.roomId, new Date(since.getTime() - CATCH_UP_SKEW_MS), CATCH_UP_LIMIT);
      for (const event of missed) enqueue(event);
      if (missed.length > 0) log.info({ events: missed.length, since: since.toISOString() }, 'reading the Matrix room history since the oldest open card');
    } catch (error) {
      log.warn({ err: error }, 'could not read the Matrix room history; a reaction given while Responder was down may have to be given again');
    }
  }

  const connecting = (async () => {
    const connect = deps.connect ?? connectMatrix;
    for (let attempt = 1; !stopped; attempt += 1) {
      try {
        const connected = await connect({ homeserverUrl: settings.homeserverUrl, accessToken: settings.accessToken, initialSyncLimit: settings.initialSyncLimit ?? 50, log });
        if (stopped) {
          connected.stop();
          return;
        }
        connection = connected;
        await catchUp(connected);
        await connected.start({
          onEvent: enqueue,
          onInvite: (roomId) => {
            if (roomId !== settings.roomId) return;
            connected.join(roomId).then(
              () => log.info({ room: roomId }, 'joined the Matrix approval room'),
              (error: unknown) => log.warn({ err: error, room: roomId }, 'could not join the Matrix approval room'),
            );
          },
        });
        // Already a member, or invited while the bot was away: joining again is harmless.
        await connected.join(settings.roomId).catch((error: unknown) => log.warn({ err: error, room: settings.roomId }, 'not in the Matrix approval room yet; invite the bot'));
        log.info({ user: connected.userId, room: settings.roomId }, 'Matrix approval bot connected');
        worker.kick();
        return;
      } catch (error) {
        if (attempt === 1 || attempt % 10 === 0) log.warn({ err: error, attempts: attempt }, 'cannot reach the Matrix homeserver; cards wait in the outbox');
        await pause.sleep(Math.min(settings.maxBackoffMs, 1000 * 2 ** Math.min(attempt - 1, 10)));
      }
    }
  })();

  return {
    channel,
    async idle() {
      // Events may arrive while waiting: wait until the queue stops growing.
      for (let seen = queue; ; seen = queue) {
        await seen;
        if (seen === queue) return;
      }
    },
    async stop() {
      stopped = true;
      pause.wake();
      connection?.stop();
      await worker.stop();
      await connecting.catch(() => {});
      await queue;
    },
  };
}
