import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiToken } from '../config/config.schema.js';
import type { Role } from '../domain/identity.js';
import type { WebSessionStore } from '../store/web-sessions.js';
import { createWebSessions } from './web-sessions.js';

const HOUR = 3600_000;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let people = 0;
/** A token of a person no other test signs in as, so the per-name limit of one test never touches another's. */
function person(role: Role = 'approver'): { token: string; config: ApiToken } {
  people += 1;
  const token = `token-of-person-${people}-${Math.random().toString(36).slice(2)}`;
  return { token, config: { name: `person-${people}`, role, sha256: sha256(token) } };
}

/**
 * What web sign-in sessions do on any store. A "restart" is a second createWebSessions over the same store
 * with the config of the moment, which is all a restarted service shares with the one before.
 */
export function describeWebSessionsContract(name: string, setup: () => Promise<{ store: WebSessionStore; close(): Promise<void> }>): void {
  describe(`web sessions contract: ${name}`, () => {
    let store: WebSessionStore;
    let close: () => Promise<void>;
    let clock = Date.parse('2026-12-06T09:00:00Z');
    const now = () => clock;
    const sessionsFor = (tokens: ApiToken[], extra: { sessionsPerName?: number } = {}) => createWebSessions({ tokens, store, now, ttlMs: 12 * HOUR, ...extra });

    beforeAll(async () => {
      ({ store, close } = await setup());
    });
    afterAll(async () => close?.());

    it('signs a configured token in, and the cookie then stands for that person and role', async () => {
      const alice = person('admin');
      const sessions = sessionsFor([alice.config]);
      const session = await sessions.signIn(alice.token);
      expect(session?.identity).toEqual({ name: alice.config.name, role: 'admin', source: 'token' });
      expect(await sessions.resolve(session!.id)).toEqual({ identity: session!.identity, csrf: session!.csrf });
    });

    it('refuses a token that is not configured', async () => {
      const alice = person();
      expect(await sessionsFor([alice.config]).signIn(`${alice.token}x`)).toBeNull();
      expect(await sessionsFor([alice.config]).signIn('')).toBeNull();
    });

    it('keeps a session, and its form token, across a restart', async () => {
      const alice = person();
      const session = await sessionsFor([alice.config]).signIn(alice.token);
      const restarted = sessionsFor([alice.config]);
      expect(await restarted.resolve(session!.id)).toEqual({ identity: session!.identity, csrf: session!.csrf });
    });

    it('ends the sessions of a token removed from the config, for good, and leaves the others', async () => {
      const alice = person();
      const bob = person();
      const before = sessionsFor([alice.config, bob.config]);
      const aliceSession = await before.signIn(alice.token);
      const bobSession = await before.signIn(bob.token);
      const withoutAlice = sessionsFor([bob.config]);
      expect(await withoutAlice.resolve(aliceSession!.id)).toBeNull();
      expect(await withoutAlice.resolve(bobSession!.id)).not.toBeNull();
      // Putting the token back does not bring the ended session back.
      expect(await sessionsFor([alice.config, bob.config]).resolve(aliceSession!.id)).toBeNull();
    });

    it('takes a role change in the config at once', async () => {
      const alice = person('approver');
      const session = await sessionsFor([alice.config]).signIn(alice.token);
      const demoted = sessionsFor([{ ...alice.config, role: 'viewer' }]);
      expect((await demoted.resolve(session!.id))?.identity.role).toBe('viewer');
    });

    it('refuses an expired session and forgets it', async () => {
      const alice = person();
      const sessions = sessionsFor([alice.config]);
      const start = clock;
      const session = await sessions.signIn(alice.token);
      clock = start + 11 * HOUR;
      expect(await sessions.resolve(session!.id)).not.toBeNull();
      clock = start + 13 * HOUR;
      expect(await sessions.resolve(session!.id)).toBeNull();
      // Not merely hidden by the clock: the refused session is gone.
      clock = start;
      expect(await sessions.resolve(session!.id)).toBeNull();
      clock = start + 14 * HOUR;
    });

    it('drops every expired session when someone signs in', async () => {
      const alice = person();
      const bob = person();
      const sessions = sessionsFor([alice.config, bob.config]);
      const start = clock;
      const old = await sessions.signIn(alice.token);
      clock = start + 13 * HOUR;
      await sessions.signIn(bob.token);
      clock = start;
      expect(await sessions.resolve(old!.id)).toBeNull();
      clock = start + 14 * HOUR;
    });

    it('signing out ends the session, including for a restarted service', async () => {
      const alice = person();
      const sessions = sessionsFor([alice.config]);
      const session = await sessions.signIn(alice.token);
      const other = await sessions.signIn(alice.token);
      await sessions.signOut(session!.id);
      expect(await sessions.resolve(session!.id)).toBeNull();
      expect(await sessionsFor([alice.config]).resolve(session!.id)).toBeNull();
      expect(await sessions.resolve(other!.id)).not.toBeNull();
    });

    it('keeps only the newest sessions of one name, so signing in in a loop cannot fill the store', async () => {
      const alice = person();
      const bob = person();
      const sessions = sessionsFor([alice.config, bob.config], { sessionsPerName: 3 });
      const bobSession = await sessions.signIn(bob.token);
      const aliceSessions = [];
      for (let i = 0; i < 6; i += 1) aliceSessions.push((await sessions.signIn(alice.token))!);
      const alive = await Promise.all(aliceSessions.map(async (s) => (await sessions.resolve(s.id)) !== null));
      expect(alive).toEqual([false, false, false, true, true, true]);
      expect(await sessions.resolve(bobSession!.id)).not.toBeNull();
    });

    it('answers null, without an error, to a cookie value it did not hand out', async () => {
      const alice = person();
      const sessions = sessionsFor([alice.config]);
      const real = await sessions.signIn(alice.token);
      const hostile = [
        undefined,
        '',
        'x',
        'A'.repeat(43),
        `${real!.id}=`,
        real!.id.slice(0, 42),
        // What a reader of the store sees: the hash of the cookie is not the cookie.
        sha256(real!.id),
        'A'.repeat(100_000),
        "' OR 1=1 --",
        'abc\u0000def'.padEnd(43, 'x'),
        '\u0000'.repeat(43),
        '\ud800'.repeat(43),
        '☃'.repeat(43),
        '%00%ff%fe',
      ];
      for (const value of hostile) {
        expect(await sessions.resolve(value)).toBeNull();
        await expect(sessions.signOut(value)).resolves.toBeUndefined();
      }
      expect(await sessions.resolve(real!.id)).not.toBeNull();
    });
  });
}
