import { generateText, hasToolCall, jsonSchema, stepCountIs, tool, ToolChoiceViolationError, type ModelMessage, type StepResult, type StopCondition, type SystemModelMessage, type ToolSet } from 'ai';
import type { AgentConfig } from '../config/config.schema.js';
import type { EvidenceItem, Proposal } from '../domain/proposal.js';
import type { Catalog } from '../remediation/catalog.js';
import type { Incident } from '../domain/incident-record.js';
import type { Toolbox } from '../tools/mcp-toolbox.js';
import { checkAgentProposal, proposalToolSchema, SUBMIT_PROPOSAL_TOOL, type ProposalCheck } from './agent-proposal.js';
import type { ConfiguredModel } from './language-model.js';
import { createModelCallLedger } from './model-call-ledger.js';
import { proposalFromText } from './proposal-from-text.js';
import { buildInvestigationPrompt, buildSystemPrompt } from './investigation-prompt.js';
import type { ContextSection, Investigation, InvestigationOutcome, TranscriptEntry } from '../domain/investigation.js';
import type { RetryNotice } from './retrying-fetch.js';
import { fenceUntrusted } from './untrusted-data.js';

export interface InvestigationBudget {
  /** Model calls in the loop; a repair round may add one more. */
  maxSteps: number;
  maxTokens: number;
  maxOutputTokens: number;
  timeoutSeconds: number;
}

export function budgetFrom(agent: AgentConfig): InvestigationBudget {
  return { maxSteps: agent.maxSteps, maxTokens: agent.maxTokens, maxOutputTokens: agent.maxOutputTokens, timeoutSeconds: agent.timeoutSeconds };
}

export interface InvestigateInput {
  incident: Incident;
  context: { sections: readonly ContextSection[]; evidence: readonly EvidenceItem[] };
  catalog: Catalog;
  allowedActions: readonly string[];
  /** Builds the model for this investigation, reporting provider retries into its transcript. */
  createModel(onRetry: (notice: RetryNotice) => void): ConfiguredModel;
  toolbox: Toolbox;
  budget: InvestigationBudget;
  pricing: { inputPerMillionTokens: number; cachedInputPerMillionTokens: number; outputPerMillionTokens: number };
}

type Steps = StepResult<ToolSet>[];

/** Where a proposal came from: a submit_proposal call (answered in the conversation) or the answer's text. */
type Submitted = { input: unknown; toolCallId: string | null };

function submittedCall(steps: Steps): Submitted | null {
  for (const step of [...steps].reverse()) {
    const call = step.toolCalls.find((c) => c.toolName === SUBMIT_PROPOSAL_TOOL);
    if (call) return { input: call.input, toolCallId: call.toolCallId };
  }
  return null;
}

function submittedText(text: string | undefined): Submitted | null {
  const input = text ? proposalFromText(text) : null;
  return input === null ? null : { input, toolCallId: null };
}

/** An MCP server's JSON Schema as the model needs it: `$schema` is for validators and costs tokens on every call. */
function modelSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

// The tools and the operator's prompt are the same on every call of an investigation: Anthropic caches
// them once marked (tools come before the system prompt in its cache order). Other providers ignore it.
const CACHE_PREFIX = { anthropic: { cacheControl: { type: 'ephemeral' } } } as const;

/**
 * One investigation: the model reads the context pack, calls read-only MCP tools, and hands in ONE
 * proposal through submit_proposal (or, as small models do, as a JSON block in its answer). Every budget
 * is enforced here, every model call is recorded (failed ones too), and the proposal is validated against
 * the route's allowed actions, the action's input schema and what the model was shown. Invalid output
 * gets one repair round; a model that cannot finish yields outcome "fallback" for the caller.
 */
export async function investigate(input: InvestigateInput): Promise<Investigation> {
  const started = Date.now();
  const transcript: TranscriptEntry[] = [];
  const { budget, catalog, allowedActions, toolbox } = input;
  const configured = input.createModel((notice) => transcript.push({ kind: 'provider-retry', ...notice }));
  const ledger = createModelCallLedger(configured.model, (entry) => transcript.push(entry));
  const system = buildSystemPrompt(catalog, allowedActions, { maxSteps: budget.maxSteps });
  const systemMessage: SystemModelMessage = { role: 'system', content: system, providerOptions: CACHE_PREFIX };
  const prompt = buildInvestigationPrompt(input.context.sections);
  const wallClock = AbortSignal.timeout(budget.timeoutSeconds * 1000);
  const calledTools = new Set<string>();
  let toolCalls = 0;

  const tools: ToolSet = {};
  for (const descriptor of toolbox.tools) {
    tools[descriptor.name] = tool({
      description: descriptor.description,
      inputSchema: jsonSchema(modelSchema(descriptor.inputSchema)),
      async execute(args, { abortSignal }) {
        const callStarted = Date.now();
        const step = ledger.calls.length - 1;
        const result = await toolbox.call(descriptor.name, args, abortSignal);
        toolCalls += 1;
        calledTools.add(descriptor.name);
        const shown = fenceUntrusted(`tool ${descriptor.name}`, result.text);
        transcript.push({
          kind: 'tool-call',
          step,
          tool: descriptor.name,
          server: descriptor.server,
          input: args,
          durationMs: Date.now() - callStarted,
          rawBytes: result.rawBytes,
          resultBytes: result.bytes,
          shownBytes: Buffer.byteLength(shown),
          truncated: result.truncated,
          isError: result.isError,
          result: result.text,
        });
        return shown;
      },
    });
  }
  tools[SUBMIT_PROPOSAL_TOOL] = tool({
    description: 'Hand in the diagnosis and ONE action (or null). Call once, last.',
    inputSchema: jsonSchema(proposalToolSchema(catalog, allowedActions)),
  });

  const finish = (outcome: InvestigationOutcome, reason: string | null, proposal: Proposal | null): Investigation => {
    const inputTokens = ledger.inputTokens();
    const cachedInputTokens = ledger.cachedInputTokens();
    const outputTokens = ledger.outputTokens();
    const { pricing } = input;
    const costUsd =
      ((inputTokens - cachedInputTokens) * pricing.inputPerMillionTokens + cachedInputTokens * pricing.cachedInputPerMillionTokens + outputTokens * pricing.outputPerMillionTokens) /
      1_000_000;
    return {
      outcome,
      reason,
      provider: configured.provider,
      model: configured.modelId,
      proposal,
      usage: { inputTokens, cachedInputTokens, outputTokens, totalTokens: inputTokens + outputTokens, costUsd },
      modelCalls: ledger.calls.length,
      toolCalls,
      durationMs: Date.now() - started,
      tools: toolbox.tools.map((t) => t.name),
      withheldTools: [...toolbox.withheld],
      unavailableServers: [...toolbox.unavailable],
      system,
      prompt,
      context: [...input.context.sections],
      transcript,
    };
  };
  const failed = (error: unknown): Investigation => {
    const reason = wallClock.aborted
      ? `wall-clock budget of ${budget.timeoutSeconds}s exhausted after ${ledger.calls.length} model call(s)`
      : `model provider failed: ${(error as Error).message}`;
    return finish('fallback', reason, null);
  };
  const tokensUsed = () => ledger.inputTokens() + ledger.outputTokens();
  const shownSources = () => [...input.context.sections.map((s) => s.title), ...calledTools];
  const check = (submitted: Submitted | null, missing: string): ProposalCheck =>
    submitted ? checkAgentProposal(submitted.input, catalog, allowedActions, input.context.evidence, shownSources()) : { ok: false, problems: [missing] };
  const lastText = () => ledger.calls.at(-1)?.text;

  const tokenBudget: StopCondition<ToolSet> = () => tokensUsed() >= budget.maxTokens;
  const messages: ModelMessage[] = [{ role: 'user', content: prompt }];
  // The conversation so far, kept per step: a loop the SDK ends by throwing returns none of it.
  let answered: ModelMessage[] = [];
  let submitted: Submitted | null;
  try {
    const result = await generateText({
      model: ledger.model,
      system: systemMessage,
      messages,
      tools,
      maxRetries: 0,
      maxOutputTokens: budget.maxOutputTokens,
      abortSignal: wallClock,
      stopWhen: [stepCountIs(budget.maxSteps), hasToolCall(SUBMIT_PROPOSAL_TOOL), tokenBudget],
      // The last turn may only hand in a proposal. "required" with one tool offered, not a tool named in
      // an object: llama.cpp's server refuses the object form and silently lets the model answer freely.
      prepareStep: ({ stepNumber }) => (stepNumber === budget.maxSteps - 1 ? { toolChoice: 'required', activeTools: [SUBMIT_PROPOSAL_TOOL] } : {}),
      onStepFinish: (stepResult) => {
        answered = stepResult.response.messages;
      },
    });
    messages.push(...result.response.messages);
    submitted = submittedCall(result.steps as Steps) ?? submittedText(result.text);
    if (!submitted) {
      if (tokensUsed() >= budget.maxTokens) return finish('fallback', `token budget of ${budget.maxTokens} exhausted without a proposal`, null);
      if (result.steps.length >= budget.maxSteps) return finish('fallback', `step budget of ${budget.maxSteps} model calls exhausted without a proposal`, null);
    }
  } catch (error) {
    if (!ToolChoiceViolationError.isInstance(error)) return failed(error);
    // Only the last turn is forced; a model that answered it in prose may still have written a proposal.
    submitted = submittedText(lastText());
    if (!submitted) {
      transcript.push({ kind: 'note', text: `model call ${ledger.calls.length} ignored the instruction to call only ${SUBMIT_PROPOSAL_TOOL}` });
      return finish('fallback', `step budget of ${budget.maxSteps} model calls exhausted without a proposal`, null);
    }
    messages.push(...answered, { role: 'assistant', content: lastText() ?? '' });
  }

  let checked = check(submitted, `no proposal: call ${SUBMIT_PROPOSAL_TOOL}`);
  if (checked.ok) return finish('proposed', null, checked.proposal);
  if (tokensUsed() >= budget.maxTokens) return finish('fallback', `token budget of ${budget.maxTokens} exhausted before a repair round`, null);

  // One repair round: the model sees exactly what was wrong and may only hand in a proposal.
  transcript.push({ kind: 'validation-failed', problems: checked.problems });
  const feedback = submitted
    ? `Your proposal was rejected:\n- ${checked.problems.join('\n- ')}\nCall ${SUBMIT_PROPOSAL_TOOL} again with a corrected proposal.`
    : `You have not handed in a proposal yet. Call ${SUBMIT_PROPOSAL_TOOL} now with your diagnosis, the evidence (source = a context section title or a tool you called) and ONE allowed action, or action null.`;
  messages.push(
    submitted?.toolCallId
      ? { role: 'tool', content: [{ type: 'tool-result', toolCallId: submitted.toolCallId, toolName: SUBMIT_PROPOSAL_TOOL, output: { type: 'error-text', value: feedback } }] }
      : { role: 'user', content: feedback },
  );
  const repairTools: ToolSet = { [SUBMIT_PROPOSAL_TOOL]: tools[SUBMIT_PROPOSAL_TOOL]! };
  try {
    const repair = await generateText({
      model: ledger.model,
      system: systemMessage,
      messages,
      tools: repairTools,
      toolChoice: 'required',
      maxRetries: 0,
      maxOutputTokens: budget.maxOutputTokens,
      abortSignal: wallClock,
      stopWhen: stepCountIs(1),
    });
    submitted = submittedCall(repair.steps as Steps) ?? submittedText(repair.text);
  } catch (error) {
    if (!ToolChoiceViolationError.isInstance(error)) return failed(error);
    submitted = submittedText(lastText());
  }
  checked = check(submitted, `no proposal: ${SUBMIT_PROPOSAL_TOOL} was not called and the answer held no proposal`);
  if (checked.ok) return finish('proposed', 'accepted after one repair round', checked.proposal);
  transcript.push({ kind: 'validation-failed', problems: checked.problems });
  // As when the provider fails: the caller falls back to the runbook proposal.
  return finish('fallback', `no valid proposal after a repair round: ${checked.problems.join('; ')}`, null);
}
