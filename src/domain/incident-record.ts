import { z } from 'zod';
import { AlertSourceSchema, AlertStatusSchema, NormalizedAlertSchema } from './alert.js';
import { ApprovalDecisionSchema, ApprovalRequestSchema } from './approval.js';
import { AuditEventSchema } from './audit-event.js';
import { PolicyDecisionSchema, PolicyInputSchema } from './decision.js';
import { InvestigationSchema } from './investigation.js';
import { JsonObjectSchema } from './json-value.js';
import { EvidenceItemSchema, ProposalSchema } from './proposal.js';
import { VerificationSchema } from './verification.js';
import { IncidentStateSchema, ModeSchema, RunFailureSchema, RunStateSchema } from './incident.js';

export const IncidentSummarySchema = z.object({
  id: z.string().uuid(),
  fingerprint: z.string(),
  state: IncidentStateSchema,
  stateReason: z.string().nullable(),
  route: z.string().nullable(),
  mode: ModeSchema.nullable(),
  alertName: z.string(),
  severity: z.string(),
  instance: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type IncidentSummary = z.infer<typeof IncidentSummarySchema>;

/** rollback: the catalog's rollback action, run after a remediation that did not clear the condition was approved to be undone. */
export const RunKindSchema = z.enum(['dry-run', 'execute', 'rollback']);
export type RunKind = z.infer<typeof RunKindSchema>;

/** The dry-run of the current proposal as policy and approvers see it. */
export const DryRunSchema = z.object({
  ok: z.boolean(),
  skipped: z.boolean(),
  runId: z.string(),
  outcome: RunStateSchema,
  /** Set when the outcome is failed: why. */
  failure: RunFailureSchema.nullable().default(null),
  exitCode: z.number().int().nullable(),
  output: z.string(),
});
export type DryRun = z.infer<typeof DryRunSchema>;

/** Policy's answer with what it was asked and who answered. */
export const PolicyDecisionRecordSchema = PolicyDecisionSchema.extend({
  input: PolicyInputSchema,
  evaluator: z.string(),
  revision: z.string().nullable(),
});
export type PolicyDecisionRecord = z.infer<typeof PolicyDecisionRecordSchema>;

export const IncidentSchema = IncidentSummarySchema.extend({
  source: AlertSourceSchema,
  labels: z.record(z.string()),
  annotations: z.record(z.string()),
  expression: z.string().nullable(),
  evidence: z.array(EvidenceItemSchema).nullable(),
  proposal: ProposalSchema.nullable(),
  dryRun: DryRunSchema.nullable(),
  decision: PolicyDecisionRecordSchema.nullable(),
  verification: VerificationSchema.nullable(),
});
export type Incident = z.infer<typeof IncidentSchema>;

/** One stored alert notification: the same alert in the same state delivered again counts a delivery. */
export const AlertNotificationSchema = z.object({
  status: AlertStatusSchema,
  receivedAt: z.string(),
  lastReceivedAt: z.string(),
  deliveries: z.number().int().positive(),
  receiver: z.string(),
  alert: NormalizedAlertSchema,
});
export type AlertNotification = z.infer<typeof AlertNotificationSchema>;

export const RemediationRunSchema = z.object({
  id: z.string(),
  kind: RunKindSchema,
  actionId: z.string(),
  target: z.string(),
  inputs: JsonObjectSchema,
  state: RunStateSchema,
  /** Set when the state is failed: why (no-hosts-matched: the engine acted on nothing). */
  failure: RunFailureSchema.nullable(),
  exitCode: z.number().int().nullable(),
  output: z.string().nullable(),
  /** What the engine handed back (a Kestra execution's outputs, an HTTP endpoint's JSON answer). */
  outputs: JsonObjectSchema.nullable(),
  /** Who cancelled it, when an admin did. */
  cancelledBy: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RemediationRun = z.infer<typeof RemediationRunSchema>;

/** Everything known about one incident: what `GET /api/v1/incidents/:id` returns. */
export const IncidentRecordSchema = IncidentSchema.extend({
  alerts: z.array(AlertNotificationSchema),
  /** One per round of asking people, oldest first, each with its decisions. */
  approvalRequests: z.array(ApprovalRequestSchema),
  /** Every decision, in order (also under its request). */
  approvals: z.array(ApprovalDecisionSchema),
  runs: z.array(RemediationRunSchema),
  /** The agent's investigation, when a model was configured. */
  investigation: InvestigationSchema.nullable(),
  audit: z.array(AuditEventSchema),
});
export type IncidentRecord = z.infer<typeof IncidentRecordSchema>;
