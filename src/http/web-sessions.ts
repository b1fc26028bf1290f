import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config/config.schema.js';
import type { Identity } from '../domain/identity.js';
import type { WebSessionStore } from '../store/web-sessions.js';

export const SESSION_COOKIE = 'responder_session';
export const SIGN_IN_COOKIE = 'responder_sign_in';

/** What signIn hands out: 32 random bytes, base64url. Anything else in the cookie is not a session. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export interface WebSessions {
  /** How long a session lasts; the cookie is given the same life. */
  ttlSeconds: number;
  /** Signs in with a token; null when the token is not configured. */
  signIn(token: string): Promise<{ id: string; identity: Identity; csrf: string } | null>;
  /** The identity behind a session cookie, as the current config says (a removed token ends it). */
  resolve(sessionId: string | undefined): Promise<{ identity: Identity; csrf: string } | null>;
  signOut(sessionId: string | undefined): Promise<void>;
  /** The form token for an identity that comes with every request (forward-auth). */
  csrfFor(identity: Identity): string;
  /** A token for the sign-in form itself, checked against its cookie. */
  signInCsrf(): string;
  sameToken(a: string | undefined, b: string | undefined): boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Sessions live in the store, so they outlive a restart. The store knows a session by the hash of its
 * cookie and the token by its hash, and every resolve checks that hash against the tokens configured now:
 * removing a token from the config ends its sessions at once.
 */
export function createWebSessions(options: {
  tokens: readonly ApiToken[];
  store: WebSessionStore;
  ttlMs?: number;
  /** Sessions kept per token name, newest first. */
  sessionsPerName?: number;
  /**
   * Signs the form tokens of forward-auth identities. The same on every replica and across restarts, or a
   * page loaded before a restart, or from another replica, is refused on its next post; random if not given.
   */
  formKey?: Buffer;
  now?: () => number;
}): WebSessions {
  const { store } = options;
  const key = options.formKey ?? randomBytes(32);
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? 12 * 3600_000;
  const keepPerName = options.sessionsPerName ?? 100;
  const sameToken = (a: string | undefined, b: string | undefined) => {
    if (!a || !b) return false;
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
  };
  const storeKey = (sessionId: string | undefined) => (sessionId && SESSION_ID.test(sessionId) ? sha256(sessionId) : null);
  return {
    ttlSeconds: Math.floor(ttl / 1000),
    async signIn(token) {
      const sha = sha256(token);
      let match: ApiToken | undefined;
      // Every token is compared, so timing does not say which one matched.
      for (const candidate of options.tokens) if (sameToken(candidate.sha256, sha)) match = candidate;
      if (!match) return null;
      const id = randomBytes(32).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      const at = now();
      await store.add(sha256(id), { tokenSha256: match.sha256, name: match.name, csrf, expiresAt: at + ttl }, { now: at, keepPerName });
      return { id, identity: { name: match.name, role: match.role, source: 'token' }, csrf };
    },
    async resolve(sessionId) {
      const idSha256 = storeKey(sessionId);
      if (!idSha256) return null;
      const session = await store.get(idSha256);
      if (!session) return null;
      const token = options.tokens.find((t) => t.sha256 === session.tokenSha256);
      if (!token || session.expiresAt < now()) {
        await store.remove(idSha256);
        return null;
      }
      return { identity: { name: token.name, role: token.role, source: 'token' }, csrf: session.csrf };
    },
    async signOut(sessionId) {
      const idSha256 = storeKey(sessionId);
      if (idSha256) await store.remove(idSha256);
    },
    csrfFor(identity) {
      return createHmac('sha256', key).update(`${identity.source}:${identity.name}`).digest('base64url');
    },
    signInCsrf() {
      return randomBytes(24).toString('base64url');
    },
    sameToken,
  };
}
