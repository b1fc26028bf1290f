import { z } from 'zod';
import { JsonObjectSchema, JsonValueSchema } from './json-value.js';

export const EvidenceItemSchema = z.object({
  /** alert, note, error, prometheus.instant, context, agent. */
  kind: z.string(),
  summary: z.string(),
  data: JsonValueSchema.optional(),
});
export type EvidenceItem = z.infer<typeof EvidenceItemSchema>;

export const RiskSchema = z.enum(['low', 'medium', 'high']);
export type Risk = z.infer<typeof RiskSchema>;

export const ProposedActionSchema = z.object({ id: z.string(), inputs: JsonObjectSchema });
export type ProposedAction = z.infer<typeof ProposedActionSchema>;

/** ONE remediation proposed for an incident, with why and how sure. */
export const ProposalSchema = z.object({
  diagnosis: z.string(),
  evidence: z.array(EvidenceItemSchema),
  action: ProposedActionSchema.nullable(),
  /** The proposer's own claim (the model's or the runbook's); policy and approvers use the catalog's risk class. */
  risk: RiskSchema,
  confidence: z.number().min(0).max(1),
  source: z.enum(['runbook', 'agent', 'none']),
});
export type Proposal = z.infer<typeof ProposalSchema>;
export type ActionProposal = Proposal & { action: ProposedAction };
