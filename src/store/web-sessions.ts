import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';

/** A web sign-in session as stored: the token it was opened with is known by its hash only. */
export interface StoredWebSession {
  tokenSha256: string;
  name: string;
  csrf: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Sessions by the SHA-256 (hex) of their cookie value; the value itself is never handed to a store. */
export interface WebSessionStore {
  /**
   * Keeps a new session. In the same step every session expired at `now` goes, and of the sessions of
   * this name only the new one and the newest `keepPerName - 1` others stay, so signing in in a loop
   * cannot fill the store.
   */
  add(idSha256: string, session: StoredWebSession, limits: { now: number; keepPerName: number }): Promise<void>;
  get(idSha256: string): Promise<StoredWebSession | null>;
  remove(idSha256: string): Promise<void>;
}

interface SessionRow {
  token_sha256: string;
  name: string;
  csrf: string;
  expires_at: string;
}

/** Sessions in the web_sessions table, shared by every replica and kept across restarts. */
export function createWebSessionStore(pool: Pool): WebSessionStore {
  return {
    async add(idSha256, session, limits) {
      await withTransaction(pool, async (client) => {
        await client.query('DELETE FROM web_sessions WHERE expires_at < $1', [new Date(limits.now)]);
        await client.query('INSERT INTO web_sessions (id_sha256, token_sha256, name, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)', [
          idSha256,
          session.tokenSha256,
          session.name,
          session.csrf,
          new Date(session.expiresAt),
        ]);
        // The new session is left out of the ranking, so a tie in created_at can never drop it.
        await client.query(
          `DELETE FROM web_sessions WHERE name = $1 AND id_sha256 <> $2 AND id_sha256 NOT IN (
             SELECT id_sha256 FROM web_sessions WHERE name = $1 AND id_sha256 <> $2 ORDER BY created_at DESC LIMIT $3)`,
          [session.name, idSha256, Math.max(0, limits.keepPerName - 1)],
        );
      });
    },
    async get(idSha256) {
      const found = await pool.query<SessionRow>('SELECT token_sha256, name, csrf, expires_at FROM web_sessions WHERE id_sha256 = $1', [idSha256]);
      const row = found.rows[0];
      return row ? { tokenSha256: row.token_sha256, name: row.name, csrf: row.csrf, expiresAt: Date.parse(row.expires_at) } : null;
    },
    async remove(idSha256) {
      await pool.query('DELETE FROM web_sessions WHERE id_sha256 = $1', [idSha256]);
    },
  };
}
