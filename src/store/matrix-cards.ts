import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import type { JsonObject } from '../domain/json-value.js';
import { enqueueOutbox } from './outbox.js';

export interface MatrixCard {
  requestId: string;
  incidentId: string;
  roomId: string;
  shortId: string;
  /** Null until the homeserver took the card. */
  eventId: string | null;
}

interface CardRow {
  request_id: string;
  incident_id: string;
  room_id: string;
  short_id: string;
  event_id: string | null;
}

const toCard = (r: CardRow): MatrixCard => ({ requestId: r.request_id, incidentId: r.incident_id, roomId: r.room_id, shortId: r.short_id, eventId: r.event_id });

export const MATRIX_OUTBOX_CHANNEL = 'matrix';

/** Cards per approval request, the reactions that decided, and the events already acted on. */
export function createMatrixCardStore(pool: Pool) {
  return {
    /**
     * Records the card and queues its message in one transaction; a card that exists already (a restart
     * announcing open requests again) queues nothing. Answers whether it was new.
     */
    async queueCard(card: Omit<MatrixCard, 'eventId'>, payload: JsonObject): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const inserted = await client.query(
          'INSERT INTO matrix_cards (request_id, incident_id, room_id, short_id) VALUES ($1,$2,$3,$4) ON CONFLICT (request_id) DO NOTHING',
          [card.requestId, card.incidentId, card.roomId, card.shortId],
        );
        if (inserted.rowCount !== 1) return false;
        await enqueueOutbox(client, { channel: MATRIX_OUTBOX_CHANNEL, dedupeKey: `matrix:card:${card.requestId}`, payload });
        return true;
      });
    },

    queue: (dedupeKey: string, payload: JsonObject) => enqueueOutbox(pool, { channel: MATRIX_OUTBOX_CHANNEL, dedupeKey: `matrix:${dedupeKey}`, payload }),

    async cardPosted(requestId: string, eventId: string): Promise<void> {
      await pool.query('UPDATE matrix_cards SET event_id = $2 WHERE request_id = $1', [requestId, eventId]);
    },

    async byRequest(requestId: string): Promise<MatrixCard | null> {
      const found = await pool.query<CardRow>('SELECT * FROM matrix_cards WHERE request_id = $1', [requestId]);
      return found.rows[0] ? toCard(found.rows[0]) : null;
    },

    /** The homeserver refused the card for good: what would go in its thread has nowhere to go. */
    async cardRefused(requestId: string): Promise<boolean> {
      const found = await pool.query('SELECT 1 FROM outbox WHERE dedupe_key = $1 AND failed_at IS NOT NULL', [`matrix:card:${requestId}`]);
      return found.rowCount === 1;
    },

    async byEvent(eventId: string): Promise<MatrixCard | null> {
      const found = await pool.query<CardRow>('SELECT * FROM matrix_cards WHERE event_id = $1', [eventId]);
      return found.rows[0] ? toCard(found.rows[0]) : null;
    },

    /** Cards whose request id starts with `prefix` (already checked to be hex and dashes). */
    async byRequestPrefix(prefix: string): Promise<MatrixCard[]> {
      const found = await pool.query<CardRow>('SELECT * FROM matrix_cards WHERE starts_with(request_id::text, $1) ORDER BY created_at LIMIT 5', [prefix]);
      return found.rows.map(toCard);
    },

    /** The incident's newest card: the thread where what happens next is told. */
    async latestFor(incidentId: string): Promise<MatrixCard | null> {
      const found = await pool.query<CardRow>('SELECT * FROM matrix_cards WHERE incident_id = $1 ORDER BY created_at DESC LIMIT 1', [incidentId]);
      return found.rows[0] ? toCard(found.rows[0]) : null;
    },

    /**
     * Claims an event for handling; false when this or another replica has it already. Claimed before it
     * is handled, so two replicas following the same room act on it once. A failed handling gives it back
     * (release); a crash mid-way loses it: the person sees no answer and reacts or types again.
     */
    async claim(eventId: string): Promise<boolean> {
      const claimed = await pool.query('INSERT INTO matrix_inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING', [eventId]);
      return claimed.rowCount === 1;
    },

    /** When the oldest card of a still open request was made: no reaction or command for one is older. */
    async oldestOpenCardAt(): Promise<Date | null> {
      const found = await pool.query<{ at: Date | string | null }>(
        `SELECT min(c.created_at) AS at FROM matrix_cards c JOIN approval_requests r ON r.id = c.request_id WHERE r.state = 'open'`,
      );
      const at = found.rows[0]?.at;
      return at ? new Date(at) : null;
    },

    /** Gives a claim back after handling failed, so the event can be handled again. */
    async release(eventId: string): Promise<void> {
      await pool.query('DELETE FROM matrix_inbox WHERE event_id = $1', [eventId]);
    },

    async rememberReaction(reaction: { eventId: string; requestId: string; sender: string; approver: string }): Promise<void> {
      await pool.query('INSERT INTO matrix_reactions (event_id, request_id, sender, approver) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING', [
        reaction.eventId,
        reaction.requestId,
        reaction.sender,
        reaction.approver,
      ]);
    },

    async reaction(eventId: string): Promise<{ requestId: string; sender: string; approver: string } | null> {
      const found = await pool.query<{ request_id: string; sender: string; approver: string }>('SELECT request_id, sender, approver FROM matrix_reactions WHERE event_id = $1', [eventId]);
      const row = found.rows[0];
      return row ? { requestId: row.request_id, sender: row.sender, approver: row.approver } : null;
    },
  };
}

export type MatrixCardStore = ReturnType<typeof createMatrixCardStore>;
