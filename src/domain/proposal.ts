import { z } from 'zod';

export const EvidenceItemSchema = z.object({
  kind: z.string(),
  summary: z.string(),
  data: z.unknown().optional(),
});
export type EvidenceItem = z.infer<typeof EvidenceItemSchema>;

export const RiskSchema = z.enum(['low', 'medium', 'high']);
export type Risk = z.infer<typeof RiskSchema>;

/** ONE remediation proposed for an incident, with why and how sure. */
export const ProposalSchema = z.object({
  diagnosis: z.string(),
  evidence: z.array(EvidenceItemSchema),
  action: z.object({ id: z.string(), inputs: z.record(z.unknown()) }).nullable(),
  risk: RiskSchema,
  confidence: z.number().min(0).max(1),
  source: z.enum(['runbook', 'agent', 'none']),
});
export type Proposal = z.infer<typeof ProposalSchema>;
