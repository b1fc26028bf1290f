import type { Context } from 'hono';
import { hasRole, type Identity, type Role } from '../domain/identity.js';
import type { IdentityResolver } from './identity.js';
import { problem } from './problem.js';

export interface AccessPolicy {
  identities: IdentityResolver;
  /** auth.anonymousRead: reads need no identity. */
  anonymousRead: boolean;
}

export type Access = { ok: true; identity: Identity | null } | { ok: false; response: Response };

/**
 * Who may do this: reads need a viewer (unless anonymous reads are on), decisions an approver.
 * 401 says "tell us who you are", 403 "we know, and you may not".
 */
export function authorize(c: Context, access: AccessPolicy, needed: Role): Access {
  const identity = access.identities.resolve(c);
  if (!identity) {
    if (needed === 'viewer' && access.anonymousRead) return { ok: true, identity: null };
    c.header('WWW-Authenticate', 'Bearer realm="responder"');
    return {
      ok: false,
      response: problem(c, {
        status: 401,
        code: 'unauthenticated',
        title: 'Who are you?',
        detail: 'send Authorization: Bearer <token> for a token in auth.tokens, or come through the forward-auth proxy',
      }),
    };
  }
  if (!hasRole(identity.role, needed)) {
    return { ok: false, response: problem(c, { status: 403, code: 'forbidden', title: `This needs the ${needed} role`, detail: `${identity.name} has the ${identity.role} role` }) };
  }
  return { ok: true, identity };
}
