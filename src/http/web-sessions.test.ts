import { describe, expect, it } from 'vitest';
import { auditKeyFromSecret, derivedSecret } from '../audit/audit-key.js';
import { createMemoryWebSessionStore } from '../store/memory-web-session-store.js';
import { describeWebSessionsContract } from './web-sessions.contract.js';
import { createWebSessions } from './web-sessions.js';

// The PostgreSQL store runs the same contract in test/integration/web-sessions-store.test.ts.
describeWebSessionsContract('in memory', async () => ({ store: createMemoryWebSessionStore(), close: async () => {} }));

describe('form tokens of forward-auth identities', () => {
  const identity = { name: 'alice', role: 'approver', source: 'forward-auth' } as const;
  const sessions = (formKey?: Buffer) => createWebSessions({ tokens: [], store: createMemoryWebSessionStore(), formKey });

  it('are the same on another replica or after a restart given the same key, and differ per identity', () => {
    const key = derivedSecret(auditKeyFromSecret('k'.repeat(64)), 'web form tokens');
    expect(sessions(key).csrfFor(identity)).toBe(sessions(Buffer.from(key)).csrfFor(identity));
    expect(sessions(key).csrfFor({ ...identity, name: 'bob' })).not.toBe(sessions(key).csrfFor(identity));
  });

  it('do not carry over to another audit key, and reveal nothing of it', () => {
    const audit = auditKeyFromSecret('k'.repeat(64));
    const key = derivedSecret(audit, 'web form tokens');
    expect(sessions(key).csrfFor(identity)).not.toBe(sessions(derivedSecret(auditKeyFromSecret('m'.repeat(64)), 'web form tokens')).csrfFor(identity));
    expect(key.equals(audit.secret)).toBe(false);
    expect(derivedSecret(audit, 'another purpose').equals(key)).toBe(false);
  });
});
