import { z } from 'zod';
import { JsonObjectSchema } from '../domain/json-value.js';

export const APPROVAL_TOPIC = 'approval';

/** What the resume API (and later chat channels) send to a waiting incident workflow. */
export const ApprovalMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('decision'),
    approved: z.boolean(),
    approver: z.string(),
    reason: z.string(),
    modifications: JsonObjectSchema.optional(),
  }),
  /** The incident was closed elsewhere (its alert resolved); stop waiting. */
  z.object({ kind: z.literal('closed') }),
]);
export type ApprovalMessage = z.infer<typeof ApprovalMessageSchema>;

export function workflowIdFor(incidentId: string): string {
  return `incident-${incidentId}`;
}
