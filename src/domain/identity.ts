import { z } from 'zod';

/** viewer reads; approver also decides; admin also cancels and changes configuration. */
export const RoleSchema = z.enum(['viewer', 'approver', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

const RANK: Record<Role, number> = { viewer: 1, approver: 2, admin: 3 };

export function hasRole(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function highestRole(roles: readonly Role[]): Role | null {
  return roles.reduce<Role | null>((best, role) => (best === null || RANK[role] > RANK[best] ? role : best), null);
}

/** Who is asking, and how we know. Every decision names one. */
export const IdentitySchema = z.object({
  name: z.string().min(1),
  role: RoleSchema,
  /** token: an API token; forward-auth: headers from a trusted proxy; matrix: an allow-listed Matrix user. */
  source: z.enum(['token', 'forward-auth', 'matrix']),
});
export type Identity = z.infer<typeof IdentitySchema>;
