import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ApprovalRequest } from '../../domain/approval.js';
import type { JsonObject } from '../../domain/json-value.js';
import type { DeliveryOutcome } from '../../notify/outbox-worker.js';
import type { OutboxMessage } from '../../store/outbox.js';
import type { MatrixCardStore } from '../../store/matrix-cards.js';
import type { ApprovalChannel, ApprovalNotice } from '../approval-channel.js';
import { decisionsLine, renderApprovalCard, shortId, threadLine } from './approval-card.js';
import { MatrixRefusal, type MatrixConnection } from './matrix-client.js';
import { asEdit, inThread, type MatrixMessage } from './matrix-text.js';

/** What waits in the outbox for the homeserver. */
const MatrixOutboxPayloadSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('card'), requestId: z.string().uuid(), content: z.record(z.unknown()) }),
  /** An edit of a request's card (who has decided, its final state). */
  z.object({ kind: z.literal('edit'), requestId: z.string().uuid(), content: z.record(z.unknown()) }),
  /** A line in a card's thread: the request's card, or the incident's newest card. */
  z.object({ kind: z.literal('thread'), requestId: z.string().uuid().nullable(), incidentId: z.string().uuid(), content: z.record(z.unknown()) }),
  /** An answer to a person, in the thread of the event they acted on. */
  z.object({ kind: z.literal('reply'), rootEventId: z.string(), content: z.record(z.unknown()) }),
  /** A message in another room (an escalation to a team's room or a direct chat). */
  z.object({ kind: z.literal('room'), roomId: z.string(), content: z.record(z.unknown()) }),
]);
export type MatrixOutboxPayload = z.infer<typeof MatrixOutboxPayloadSchema>;

export interface MatrixChannelSettings {
  roomId: string;
  publicUrl: string | null;
}

const FINAL_LINES: Record<Exclude<ApprovalRequest['state'], 'open'>, (request: ApprovalRequest) => string> = {
  approved: (r) => `✅ Approved by ${r.decisions.filter((d) => d.approved).map((d) => d.approver).join(', ')}. Executing next.`,
  rejected: (r) => {
    const no = r.decisions.find((d) => !d.approved);
    return `❌ Rejected by ${no?.approver ?? 'someone'}${no ? `: ${no.reason}` : ''}. Nothing will run.`;
  },
  superseded: (r) => `✏️ ${r.modifiedBy ?? 'Someone'} approved changed inputs; they are dry-run and checked again, and a new card follows. Reactions here no longer count.`,
  expired: () => '⌛ Expired: nobody decided before the deadline. Reactions here no longer count.',
  closed: (r) => `The request was closed: ${r.stateReason ?? 'the incident ended'}.`,
};

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The Matrix room as an approval channel. Nothing is sent from here directly: cards, edits and thread
 * lines go into the durable outbox and reach the homeserver when it answers, in order.
 */
export function createMatrixApprovalChannel(deps: { cards: MatrixCardStore; settings: MatrixChannelSettings; kick(): void }) {
  const { cards, settings } = deps;
  const card = (notice: ApprovalNotice) => renderApprovalCard(notice.incident, notice.request, { publicUrl: settings.publicUrl }) as unknown as JsonObject;
  const editCard = async (notice: ApprovalNotice) => {
    const content = card(notice);
    await cards.queue(`edit:${notice.request.id}:${digest(JSON.stringify(content))}`, { kind: 'edit', requestId: notice.request.id, content });
  };

  const channel: ApprovalChannel & {
    /** A line in the incident's newest card thread (executing, verified, failed); nothing when it never had a card. */
    followUp(incidentId: string, key: string, content: MatrixMessage): Promise<void>;
    /** A message in another room, once per key. */
    postToRoom(roomId: string, key: string, content: MatrixMessage): Promise<void>;
  } = {
    name: 'matrix',
    async post(notice) {
      const queued = await cards.queueCard(
        { requestId: notice.request.id, incidentId: notice.incident.id, roomId: settings.roomId, shortId: shortId(notice.request.id) },
        { kind: 'card', requestId: notice.request.id, content: card(notice) },
      );
      if (queued) deps.kick();
    },
    async update(notice) {
      if (!(await cards.byRequest(notice.request.id))) return;
      const { request } = notice;
      const line = `Approvals: ${request.decisions.filter((d) => d.approved).length} of ${request.approvalsRequired} needed — ${decisionsLine(request)}`;
      await editCard(notice);
      // Keyed by who has decided: announcing the same state twice says it once.
      const who = request.decisions.map((d) => `${d.approver}:${d.approved}`).join(',');
      await cards.queue(`update:${request.id}:${digest(who)}`, { kind: 'thread', requestId: request.id, incidentId: request.incidentId, content: threadLine(line) as unknown as JsonObject });
      deps.kick();
    },
    async withdraw(notice) {
      const { request } = notice;
      if (request.state === 'open' || !(await cards.byRequest(request.id))) return;
      await editCard(notice);
      await cards.queue(`final:${request.id}`, { kind: 'thread', requestId: request.id, incidentId: request.incidentId, content: threadLine(FINAL_LINES[request.state](request)) as unknown as JsonObject });
      deps.kick();
    },
    async followUp(incidentId, key, content) {
      if (!(await cards.latestFor(incidentId))) return;
      await cards.queue(`follow:${incidentId}:${key}`, { kind: 'thread', requestId: null, incidentId, content: content as unknown as JsonObject });
      deps.kick();
    },
    async postToRoom(roomId, key, content) {
      await cards.queue(`room:${key}`, { kind: 'room', roomId, content: content as unknown as JsonObject });
      deps.kick();
    },
  };
  return channel;
}

export type MatrixApprovalChannel = ReturnType<typeof createMatrixApprovalChannel>;

/** Sends one outbox message to the homeserver; a thread line waits until its card has an event id. */
export async function deliverMatrixMessage(
  message: OutboxMessage,
  deps: { connection: MatrixConnection | null; cards: MatrixCardStore; roomId: string },
): Promise<DeliveryOutcome> {
  const parsed = MatrixOutboxPayloadSchema.safeParse(message.payload);
  if (!parsed.success) return { kind: 'refused', error: `not a Matrix outbox message: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  const { connection, cards, roomId } = deps;
  if (!connection) return { kind: 'retry', error: 'not connected to the homeserver yet' };
  const payload = parsed.data;
  const txnId = `responder-${message.id}`;
  // Behind its card in the ordered outbox; only a card refused for good leaves it with nowhere to go.
  const waitForCard = async (requestId: string): Promise<DeliveryOutcome> =>
    (await cards.cardRefused(requestId)) ? { kind: 'delivered', result: { skipped: 'the card was refused by the homeserver' } } : { kind: 'retry', error: 'the card is not posted yet' };
  const content = payload.content as unknown as MatrixMessage;
  try {
    switch (payload.kind) {
      case 'card': {
        const eventId = await connection.send(roomId, 'm.room.message', payload.content, txnId);
        await cards.cardPosted(payload.requestId, eventId);
        return { kind: 'delivered', result: { eventId } };
      }
      case 'edit': {
        const target = await cards.byRequest(payload.requestId);
        if (!target?.eventId) return waitForCard(payload.requestId);
        const eventId = await connection.send(target.roomId, 'm.room.message', asEdit(content, target.eventId) as unknown as Record<string, unknown>, txnId);
        return { kind: 'delivered', result: { eventId } };
      }
      case 'thread': {
        const target = payload.requestId ? await cards.byRequest(payload.requestId) : await cards.latestFor(payload.incidentId);
        if (!target) return { kind: 'delivered', result: { skipped: 'no card for this incident' } };
        if (!target.eventId) return waitForCard(target.requestId);
        const eventId = await connection.send(target.roomId, 'm.room.message', inThread(content, target.eventId) as unknown as Record<string, unknown>, txnId);
        return { kind: 'delivered', result: { eventId } };
      }
      case 'room': {
        const eventId = await connection.send(payload.roomId, 'm.room.message', payload.content, txnId);
        return { kind: 'delivered', result: { eventId } };
      }
      case 'reply': {
        const eventId = await connection.send(roomId, 'm.room.message', inThread(content, payload.rootEventId) as unknown as Record<string, unknown>, txnId);
        return { kind: 'delivered', result: { eventId } };
      }
    }
  } catch (error) {
    if (error instanceof MatrixRefusal) return { kind: 'refused', error: error.message };
    return { kind: 'retry', error: (error as Error).message };
  }
}
