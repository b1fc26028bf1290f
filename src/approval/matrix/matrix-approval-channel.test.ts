import { describe, expect, it } from 'vitest';
import type { MatrixCard, MatrixCardStore } from '../../store/matrix-cards.js';
import type { OutboxMessage } from '../../store/outbox.js';
import { deliverMatrixMessage } from './matrix-approval-channel.js';
import { MatrixRefusal, type MatrixConnection } from './matrix-client.js';

const REQUEST = '22222222-2222-4222-8222-222222222222';
const INCIDENT = '11111111-1111-4111-8111-111111111111';
const card = (eventId: string | null): MatrixCard => ({ requestId: REQUEST, incidentId: INCIDENT, roomId: '!room', shortId: '22222222', eventId });
const message = (payload: Record<string, unknown>): OutboxMessage => ({ id: 7, channel: 'matrix', dedupeKey: 'k', payload: payload as OutboxMessage['payload'], attempts: 1, createdAt: '' });
const thread = message({ kind: 'thread', requestId: REQUEST, incidentId: INCIDENT, content: { msgtype: 'm.notice', body: 'x', 'm.mentions': {} } });

function cards(found: MatrixCard | null, refused = false): MatrixCardStore {
  return { byRequest: async () => found, latestFor: async () => found, cardRefused: async () => refused, cardPosted: async () => {} } as unknown as MatrixCardStore;
}
function connection(send: MatrixConnection['send']): MatrixConnection {
  return { userId: '@bot:x', send, join: async () => {}, history: async () => [], start: async () => {}, stop: () => {} };
}
const sent: unknown[] = [];
const ok = connection(async (roomId, type, content, txnId) => {
  sent.push({ roomId, type, content, txnId });
  return '$new';
});

describe('delivering a queued Matrix message', () => {
  it('puts a thread line in the card thread with a transaction id from the outbox row', async () => {
    expect(await deliverMatrixMessage(thread, { connection: ok, cards: cards(card('$card')), roomId: '!room' })).toEqual({ kind: 'delivered', result: { eventId: '$new' } });
    expect(sent.at(-1)).toMatchObject({ roomId: '!room', txnId: 'responder-7', content: { 'm.relates_to': { rel_type: 'm.thread', event_id: '$card' } } });
  });

  it('waits for its card, and for the homeserver, without losing the message', async () => {
    expect((await deliverMatrixMessage(thread, { connection: ok, cards: cards(card(null)), roomId: '!room' })).kind).toBe('retry');
    expect((await deliverMatrixMessage(thread, { connection: null, cards: cards(card('$card')), roomId: '!room' })).kind).toBe('retry');
    const down = connection(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    expect(await deliverMatrixMessage(thread, { connection: down, cards: cards(card('$card')), roomId: '!room' })).toEqual({ kind: 'retry', error: 'connect ECONNREFUSED' });
  });

  it('does not hold the ordered queue forever behind a card the homeserver refused', async () => {
    expect(await deliverMatrixMessage(thread, { connection: ok, cards: cards(card(null), true), roomId: '!room' })).toEqual({ kind: 'delivered', result: { skipped: 'the card was refused by the homeserver' } });
    const refusing = connection(async () => {
      throw new MatrixRefusal('M_TOO_LARGE: event too large', 413);
    });
    expect((await deliverMatrixMessage(thread, { connection: refusing, cards: cards(card('$card')), roomId: '!room' })).kind).toBe('refused');
    expect((await deliverMatrixMessage(message({ kind: 'mystery' }), { connection: ok, cards: cards(null), roomId: '!room' })).kind).toBe('refused');
  });
});
