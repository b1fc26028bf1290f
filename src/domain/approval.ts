import { z } from 'zod';
import { JsonObjectSchema } from './json-value.js';
import { RiskSchema } from './proposal.js';

/**
 * open: waiting for decisions. approved: enough distinct approvers. rejected: one person said no.
 * superseded: someone approved with modifications; a new request (next round) follows dry-run and policy.
 * expired: nobody decided before the deadline. closed: the incident ended another way (alert resolved).
 */
export const ApprovalRequestStateSchema = z.enum(['open', 'approved', 'rejected', 'superseded', 'expired', 'closed']);
export type ApprovalRequestState = z.infer<typeof ApprovalRequestStateSchema>;

export const ApprovalChannelNameSchema = z.enum(['api', 'web', 'matrix']);
export type ApprovalChannelName = z.infer<typeof ApprovalChannelNameSchema>;

/** One person's decision on one request. */
export const ApprovalDecisionSchema = z.object({
  /** Null only for decisions recorded before requests existed. */
  requestId: z.string().uuid().nullable(),
  approver: z.string(),
  approved: z.boolean(),
  reason: z.string(),
  modifications: JsonObjectSchema.nullable(),
  channel: ApprovalChannelNameSchema,
  createdAt: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

/** One round of asking people: exactly this action with exactly these inputs, after this dry-run. */
export const ApprovalRequestSchema = z.object({
  id: z.string().uuid(),
  incidentId: z.string().uuid(),
  round: z.number().int().positive(),
  actionId: z.string(),
  inputs: JsonObjectSchema,
  /** The catalog's risk class, which policy used; the proposer's own claim stays on the proposal. */
  risk: RiskSchema,
  /** sha256 over the canonical (action, inputs, dry-run output): what an approval is bound to. */
  proposalHash: z.string(),
  approvalsRequired: z.number().int().positive(),
  /** Why policy asks for people, in its words. */
  policyReasons: z.array(z.string()),
  deadline: z.string(),
  state: ApprovalRequestStateSchema,
  stateReason: z.string().nullable(),
  /** When superseded: the inputs the modifier approved instead, and who. */
  modifications: JsonObjectSchema.nullable(),
  modifiedBy: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  decisions: z.array(ApprovalDecisionSchema),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** What a person submits through any channel. */
export const DecisionInputSchema = z
  .object({
    /** The request the person reviewed; required once the proposal has been modified (round > 1). */
    requestId: z.string().uuid().optional(),
    approved: z.boolean(),
    reason: z.string().trim().min(1, 'say why: the reason goes into the audit trail').max(2000),
    /** Changed inputs; only with approved: true. They end this request and open a new round. */
    modifications: JsonObjectSchema.optional(),
  })
  .strict()
  .refine((d) => d.approved || d.modifications === undefined, { message: 'modifications come with an approval; to reject, leave them out', path: ['modifications'] });
export type DecisionInput = z.infer<typeof DecisionInputSchema>;
