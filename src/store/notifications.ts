import { z } from 'zod';
import type { Pool } from '../database/database.js';
import { CLOSABLE_ON_RESOLVE, IntakeResultSchema, type IntakeResult, type RoutedNotification } from '../domain/incident.js';

const IntakeResultsSchema = z.array(IntakeResultSchema);

// responder_record_delivery (migration 3) stores the whole delivery; one statement in autocommit is its own transaction.
const RECORD_DELIVERY = 'SELECT responder_record_delivery($1::jsonb, $2::text[]) AS results';

// Two deliveries racing on one fingerprint (unique violation), a deadlock, or a serialization failure under a
// stricter default isolation: the whole statement rolled back, so running it again is safe.
const RETRYABLE = new Set(['23505', '40P01', '40001']);
const MAX_ATTEMPTS = 3;

export function createNotificationStore(pool: Pool) {
  return {
    /**
     * Stores a whole routed delivery in one round trip: all of it commits, or none of it does. Answers one
     * result per alert, in fingerprint order. Its strings must hold no U+0000 or lone surrogate (parseWebhook
     * sees to that): jsonb refuses them.
     */
    async record(delivery: RoutedNotification): Promise<IntakeResult[]> {
      const values = [JSON.stringify(delivery), [...CLOSABLE_ON_RESOLVE]];
      for (let attempt = 1; ; attempt += 1) {
        try {
          const result = await pool.query<{ results: unknown }>(RECORD_DELIVERY, values);
          return IntakeResultsSchema.parse(result.rows[0]?.results);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (attempt < MAX_ATTEMPTS && typeof code === 'string' && RETRYABLE.has(code)) continue;
          throw error;
        }
      }
    },
  };
}

export type NotificationStore = ReturnType<typeof createNotificationStore>;
