import type { StoredWebSession, WebSessionStore } from './web-sessions.js';

/** Sessions in a Map, for tests without a database; keeps the same limits as the table. */
export function createMemoryWebSessionStore(): WebSessionStore {
  // A Map iterates in insertion order, which is the newest-last order the per-name limit needs.
  const sessions = new Map<string, StoredWebSession>();
  return {
    async add(idSha256, session, limits) {
      for (const [id, stored] of sessions) if (stored.expiresAt < limits.now) sessions.delete(id);
      sessions.set(idSha256, { ...session });
      const ofName = [...sessions].filter(([id, stored]) => stored.name === session.name && id !== idSha256).map(([id]) => id);
      for (const id of ofName.slice(0, Math.max(0, ofName.length - Math.max(0, limits.keepPerName - 1)))) sessions.delete(id);
    },
    async get(idSha256) {
      const stored = sessions.get(idSha256);
      return stored ? { ...stored } : null;
    },
    async remove(idSha256) {
      sessions.delete(idSha256);
    },
  };
}
