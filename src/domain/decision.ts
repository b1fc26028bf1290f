import { z } from 'zod';
import { ModeSchema } from './incident.js';
import { RiskSchema } from './proposal.js';

/** What an input names: policy's critical-service rule reads service targets; host targets must be one inventory host. */
export const TargetKindSchema = z.enum(['host', 'service', 'path', 'ip', 'deployment', 'namespace', 'config']);
export type TargetKind = z.infer<typeof TargetKindSchema>;

export const POLICY_INPUT_VERSION = 1;

/** What policy is asked. Versioned: Rego written against version 1 can rely on every field below. */
export const PolicyInputSchema = z.object({
  version: z.literal(POLICY_INPUT_VERSION),
  action: z.object({
    id: z.string(),
    type: z.string(),
    target: z.string(),
    target_type: z.string(),
    inputs: z.record(z.unknown()),
    /** Every input that names something acted on (host, service, path, ip, …), as the catalog declares. */
    targets: z.array(z.object({ input: z.string(), kind: TargetKindSchema, value: z.string() })),
    risk: RiskSchema,
    read_only: z.boolean(),
    destructive: z.boolean(),
  }),
  alert: z.object({
    name: z.string(),
    severity: z.string(),
    instance: z.string().nullable(),
    labels: z.record(z.string()),
  }),
  incident: z.object({
    id: z.string(),
    mode: ModeSchema,
    confidence: z.number(),
    dry_run: z.object({ ok: z.boolean(), skipped: z.boolean() }),
  }),
  history: z.object({
    target_remediations_last_hour: z.number().int().nonnegative(),
  }),
  requester: z.string(),
});
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

/** What policy answers. Missing fields mean "no": OPA answers {} for an undefined rule, which must read as deny. */
export const PolicyDecisionSchema = z.object({
  allow: z.boolean().default(false),
  deny: z.array(z.string()).default([]),
  require_approval: z.boolean().default(true),
  approvals_required: z.number().int().nonnegative().default(1),
  auto_execute: z.boolean().default(false),
  /** Why people are asked, in policy's words; shown beside the approval request. */
  reasons: z.array(z.string()).default([]),
});
export type PolicyDecision = z.infer<typeof PolicyDecisionSchema>;

export type PolicyOutcome =
  | { kind: 'decided'; decision: PolicyDecision; evaluator: string; revision: string | null }
  | { kind: 'unavailable'; reason: string };
