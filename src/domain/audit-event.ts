import { z } from 'zod';
import { JsonObjectSchema } from './json-value.js';

export const AuditEventInputSchema = z.object({
  incidentId: z.string().uuid().nullable(),
  actor: z.string(),
  kind: z.string(),
  data: JsonObjectSchema,
});
export type AuditEventInput = z.infer<typeof AuditEventInputSchema>;

export const AuditEventSchema = AuditEventInputSchema.extend({
  id: z.number().int(),
  at: z.string(),
  /** Position in the chain; null until the sealer has sealed the event (normally well under a second). */
  seq: z.number().int().nullable(),
  prevHash: z.string().nullable(),
  hash: z.string().nullable(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
export type SealedAuditEvent = AuditEvent & { seq: number; prevHash: string; hash: string };
