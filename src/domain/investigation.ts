import { z } from 'zod';
import { JsonValueSchema } from './json-value.js';
import { ProposalSchema } from './proposal.js';

/** One entry in what the agent did, in order; stored with the incident so a reviewer can replay it. */
export const TranscriptEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('model-call'),
    step: z.number().int(),
    durationMs: z.number(),
    requestBytes: z.number().int().nullable(),
    /** Everything the request held, cached or not, as the provider reported it. */
    inputTokens: z.number().int(),
    /** The part of inputTokens read from the provider's prompt cache (billed at a lower price). */
    cachedInputTokens: z.number().int().default(0),
    outputTokens: z.number().int(),
    finishReason: z.string(),
    text: z.string(),
    toolCalls: z.array(z.object({ name: z.string(), input: JsonValueSchema })),
    /** The call allowed nothing but a tool call (the last turn, the repair round). */
    forcedTool: z.boolean().default(false),
    /** The call failed: no answer, or one the SDK rejected. Its tokens still count when it reported any. */
    error: z.string().optional(),
  }),
  z.object({
    kind: z.literal('tool-call'),
    step: z.number().int(),
    tool: z.string(),
    server: z.string(),
    input: JsonValueSchema,
    durationMs: z.number(),
    /** What the backend answered, when the server reports it; compare with resultBytes for compaction. */
    rawBytes: z.number().int().nullable(),
    resultBytes: z.number().int(),
    shownBytes: z.number().int(),
    truncated: z.boolean(),
    isError: z.boolean(),
    result: z.string(),
  }),
  z.object({ kind: z.literal('provider-retry'), attempt: z.number().int(), reason: z.string(), delayMs: z.number() }),
  z.object({ kind: z.literal('validation-failed'), problems: z.array(z.string()) }),
  z.object({ kind: z.literal('note'), text: z.string() }),
]);
export type TranscriptEntry = z.infer<typeof TranscriptEntrySchema>;

export const ContextSectionSchema = z.object({
  title: z.string(),
  /** Where it came from: the alert, a PromQL or LogQL query. */
  source: z.string(),
  text: z.string(),
  rawBytes: z.number().int(),
});
export type ContextSection = z.infer<typeof ContextSectionSchema>;

export const InvestigationOutcomeSchema = z.enum(['proposed', 'no-action', 'fallback']);
export type InvestigationOutcome = z.infer<typeof InvestigationOutcomeSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int(),
  /** Of inputTokens, read from the provider's prompt cache. */
  cachedInputTokens: z.number().int().default(0),
  outputTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** An investigation as stored with its incident and shown in the incident record. */
export const InvestigationSchema = z.object({
  /**
   * proposed: a validated proposal (its action may be null when the model found nothing safe to do).
   * no-action: kept for records stored before an invalid proposal fell back to the runbook.
   * fallback: the model could not finish (provider failure, budget, no valid proposal after a repair
   *   round); the no-LLM proposal was used.
   */
  outcome: InvestigationOutcomeSchema,
  reason: z.string().nullable(),
  provider: z.string(),
  model: z.string(),
  proposal: ProposalSchema.nullable(),
  usage: UsageSchema,
  modelCalls: z.number().int(),
  toolCalls: z.number().int(),
  durationMs: z.number(),
  tools: z.array(z.string()),
  withheldTools: z.array(z.object({ server: z.string(), tool: z.string(), reason: z.string() })),
  unavailableServers: z.array(z.object({ server: z.string(), error: z.string() })),
  system: z.string(),
  prompt: z.string(),
  context: z.array(ContextSectionSchema),
  transcript: z.array(TranscriptEntrySchema),
});
export type Investigation = z.infer<typeof InvestigationSchema>;
