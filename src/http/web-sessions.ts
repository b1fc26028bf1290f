import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config/config.schema.js';
import type { Identity } from '../domain/identity.js';

interface Session {
  tokenSha256: string;
  name: string;
  csrf: string;
  expiresAt: number;
}

export const SESSION_COOKIE = 'responder_session';
export const SIGN_IN_COOKIE = 'responder_sign_in';

export interface WebSessions {
  /** Signs in with a token; null when the token is not configured. */
  signIn(token: string): { id: string; identity: Identity; csrf: string } | null;
  /** The identity behind a session cookie, as the current config says (a removed token ends it). */
  resolve(sessionId: string | undefined): { identity: Identity; csrf: string } | null;
  signOut(sessionId: string | undefined): void;
  /** The form token for an identity that comes with every request (forward-auth). */
  csrfFor(identity: Identity): string;
  /** A token for the sign-in form itself, checked against its cookie. */
  signInCsrf(): string;
  sameToken(a: string | undefined, b: string | undefined): boolean;
}

/**
 * Sessions live in memory: a restart signs everyone out, and a session carries the token's hash, not
 * the token, so removing a token from the config ends its sessions at once.
 */
export function createWebSessions(options: { tokens: readonly ApiToken[]; ttlMs?: number; now?: () => number }): WebSessions {
  const sessions = new Map<string, Session>();
  const key = randomBytes(32);
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? 12 * 3600_000;
  const sameToken = (a: string | undefined, b: string | undefined) => {
    if (!a || !b) return false;
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
  };
  return {
    signIn(token) {
      const sha = createHash('sha256').update(token).digest('hex');
      let match: ApiToken | undefined;
      // Every token is compared, so timing does not say which one matched.
      for (const candidate of options.tokens) if (sameToken(candidate.sha256, sha)) match = candidate;
      if (!match) return null;
      const id = randomBytes(32).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      if (sessions.size > 10_000) for (const [sid, s] of sessions) if (s.expiresAt < now()) sessions.delete(sid);
      sessions.set(id, { tokenSha256: match.sha256, name: match.name, csrf, expiresAt: now() + ttl });
      return { id, identity: { name: match.name, role: match.role, source: 'token' }, csrf };
    },
    resolve(sessionId) {
      if (!sessionId) return null;
      const session = sessions.get(sessionId);
      if (!session) return null;
      const token = options.tokens.find((t) => t.sha256 === session.tokenSha256);
      if (!token || session.expiresAt < now()) {
        sessions.delete(sessionId);
        return null;
      }
      return { identity: { name: token.name, role: token.role, source: 'token' }, csrf: session.csrf };
    },
    signOut(sessionId) {
      if (sessionId) sessions.delete(sessionId);
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
