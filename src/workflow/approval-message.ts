import { z } from 'zod';

export const APPROVAL_TOPIC = 'approval';

/**
 * What wakes a waiting incident workflow. It carries no decision: decisions are settled in the
 * database (src/store/approvals.ts) and the workflow reads the request's state, so a message that is
 * late, repeated or for an older round can never count twice.
 */
export const ApprovalMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('decided'), requestId: z.string().uuid() }),
  /** The incident was closed elsewhere (its alert resolved); stop waiting. */
  z.object({ kind: z.literal('closed') }),
]);
export type ApprovalMessage = z.infer<typeof ApprovalMessageSchema>;

export function workflowIdFor(incidentId: string): string {
  return `incident-${incidentId}`;
}
