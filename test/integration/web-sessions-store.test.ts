import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWebSessionsContract } from '../../src/http/web-sessions.contract.js';
import { createWebSessions } from '../../src/http/web-sessions.js';
import { createWebSessionStore } from '../../src/store/web-sessions.js';
import { startTestDatabase, type TestDatabase } from '../support/test-database.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// One database for the whole file; the contract's people and the tests below sign in under different names.
let shared: Promise<TestDatabase> | null = null;
const started = () => (shared ??= startTestDatabase('web-sessions'));
afterAll(async () => (await shared)?.stop());

describeWebSessionsContract('PostgreSQL', async () => ({ store: createWebSessionStore((await started()).pool), close: async () => {} }));

describe('web sessions in PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await started();
  });

  const token = 'a-long-enough-token-for-alice';
  const tokens = [{ name: 'alice', role: 'approver' as const, sha256: sha256(token) }];

  it('holds nothing a reader of the database could use as a cookie', async () => {
    const sessions = createWebSessions({ tokens, store: createWebSessionStore(database.pool) });
    const session = await sessions.signIn(token);
    const rows = (await database.pool.query<{ row: string }>('SELECT row_to_json(w)::text AS row FROM web_sessions w')).rows.map((r) => r.row);
    expect(rows.join('\n')).toContain(sha256(session!.id));
    expect(rows.join('\n')).not.toContain(session!.id);
    expect(rows.join('\n')).not.toContain(token);
    // Each stored value presented as a cookie opens nothing.
    for (const value of rows.flatMap((row) => Object.values(JSON.parse(row) as Record<string, string>))) expect(await sessions.resolve(String(value))).toBeNull();
  });

  it('a script signing in in a loop leaves at most 100 sessions of that name', async () => {
    const sessions = createWebSessions({ tokens, store: createWebSessionStore(database.pool) });
    let last = null;
    for (let i = 0; i < 110; i += 1) last = await sessions.signIn(token);
    const count = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM web_sessions WHERE name = 'alice'");
    expect(count.rows[0]!.n).toBe(100);
    expect(await sessions.resolve(last!.id)).not.toBeNull();
  });
});
