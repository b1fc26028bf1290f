import { generateText, hasToolCall, jsonSchema, stepCountIs, tool, ToolChoiceViolationError, type ModelMessage, type StepResult, type StopCondition, type ToolSet } from 'ai';
import type { AgentConfig } from '../config/config.schema.js';
import type { EvidenceItem, Proposal } from '../domain/proposal.js';
import type { Catalog } from '../remediation/catalog.js';
import type { Incident } from '../domain/incident-record.js';
import type { Toolbox } from '../tools/mcp-toolbox.js';
import { checkAgentProposal, proposalToolSchema, SUBMIT_PROPOSAL_TOOL, type ProposalCheck } from './agent-proposal.js';
import type { ConfiguredModel } from './language-model.js';
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
  pricing: { inputPerMillionTokens: number; outputPerMillionTokens: number };
}

type Steps = StepResult<ToolSet>[];

function tokensUsed(steps: Steps): number {
  return steps.reduce((sum, s) => sum + (s.usage.inputTokens ?? 0) + (s.usage.outputTokens ?? 0), 0);
}

function submittedInput(steps: Steps): { input: unknown; toolCallId: string } | null {
  for (const step of [...steps].reverse()) {
    const call = step.toolCalls.find((c) => c.toolName === SUBMIT_PROPOSAL_TOOL);
    if (call) return { input: call.input, toolCallId: call.toolCallId };
  }
  return null;
}

/**
 * One investigation: the model reads the context pack, calls read-only MCP tools, and hands in ONE
 * proposal through submit_proposal. Every budget is enforced here, every call is recorded, and the
 * proposal is validated against the route's allowed actions and the action's input schema. Invalid
 * output gets one repair round; a model that cannot finish yields outcome "fallback" for the caller.
 */
export async function investigate(input: InvestigateInput): Promise<Investigation> {
  const started = Date.now();
  const transcript: TranscriptEntry[] = [];
  const { budget, catalog, allowedActions, toolbox } = input;
  const configured = input.createModel((notice) => transcript.push({ kind: 'provider-retry', ...notice }));
  const system = buildSystemPrompt(catalog, allowedActions, { maxSteps: budget.maxSteps });
  const prompt = buildInvestigationPrompt(input.incident, input.context.sections);
  const wallClock = AbortSignal.timeout(budget.timeoutSeconds * 1000);
  let step = 0;
  let stepStarted = Date.now();
  let toolCalls = 0;
  let inputTokens = 0;
  let outputTokens = 0;

  const tools: ToolSet = {};
  for (const descriptor of toolbox.tools) {
    tools[descriptor.name] = tool({
      description: descriptor.description,
      inputSchema: jsonSchema(descriptor.inputSchema),
      async execute(args, { abortSignal }) {
        const callStarted = Date.now();
        const result = await toolbox.call(descriptor.name, args, abortSignal);
        toolCalls += 1;
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
    description: 'Hand in your diagnosis and the ONE remediation you propose (or action null). Call exactly once, last.',
    inputSchema: jsonSchema(proposalToolSchema(catalog, allowedActions)),
  });

  const onStepFinish = (result: StepResult<ToolSet>) => {
    const body = result.request.body;
    inputTokens += result.usage.inputTokens ?? 0;
    outputTokens += result.usage.outputTokens ?? 0;
    transcript.push({
      kind: 'model-call',
      step,
      durationMs: Date.now() - stepStarted,
      requestBytes: body === undefined ? null : Buffer.byteLength(typeof body === 'string' ? body : JSON.stringify(body)),
      inputTokens: result.usage.inputTokens ?? 0,
      outputTokens: result.usage.outputTokens ?? 0,
      finishReason: result.finishReason,
      text: result.text,
      toolCalls: result.toolCalls.map((c) => ({ name: c.toolName, input: c.input })),
    });
    step += 1;
    stepStarted = Date.now();
  };

  const finish = (outcome: InvestigationOutcome, reason: string | null, proposal: Proposal | null): Investigation => {
    const costUsd = (inputTokens * input.pricing.inputPerMillionTokens + outputTokens * input.pricing.outputPerMillionTokens) / 1_000_000;
    return {
      outcome,
      reason,
      provider: configured.provider,
      model: configured.modelId,
      proposal,
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, costUsd },
      modelCalls: step,
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
      ? `wall-clock budget of ${budget.timeoutSeconds}s exhausted after ${step} model call(s)`
      : `model provider failed: ${(error as Error).message}`;
    return finish('fallback', reason, null);
  };

  const tokenBudget: StopCondition<ToolSet> = ({ steps }) => tokensUsed(steps as Steps) >= budget.maxTokens;
  const messages: ModelMessage[] = [{ role: 'user', content: prompt }];
  let steps: Steps;
  try {
    const result = await generateText({
      model: configured.model,
      system,
      messages,
      tools,
      maxRetries: 0,
      maxOutputTokens: budget.maxOutputTokens,
      abortSignal: wallClock,
      stopWhen: [stepCountIs(budget.maxSteps), hasToolCall(SUBMIT_PROPOSAL_TOOL), tokenBudget],
      // The last turn may only hand in a proposal, so a long investigation still ends with one.
      prepareStep: ({ stepNumber }) =>
        stepNumber === budget.maxSteps - 1 ? { toolChoice: { type: 'tool', toolName: SUBMIT_PROPOSAL_TOOL }, activeTools: [SUBMIT_PROPOSAL_TOOL] } : {},
      onStepFinish,
    });
    steps = result.steps as Steps;
    messages.push(...result.response.messages);
  } catch (error) {
    if (!ToolChoiceViolationError.isInstance(error)) return failed(error);
    // Only the last turn forces submit_proposal; a model that ignores even that has used up its steps.
    step += 1;
    transcript.push({ kind: 'note', text: `model call ${step} ignored the instruction to call only ${SUBMIT_PROPOSAL_TOOL}` });
    return finish('fallback', `step budget of ${budget.maxSteps} model calls exhausted without a proposal`, null);
  }

  const submitted = submittedInput(steps);
  if (!submitted) {
    if (tokensUsed(steps) >= budget.maxTokens) return finish('fallback', `token budget of ${budget.maxTokens} exhausted without a proposal`, null);
    if (steps.length >= budget.maxSteps) return finish('fallback', `step budget of ${budget.maxSteps} model calls exhausted without a proposal`, null);
  }
  let check: ProposalCheck = submitted
    ? checkAgentProposal(submitted.input, catalog, allowedActions, input.context.evidence)
    : { ok: false, problems: [`no proposal: you must call ${SUBMIT_PROPOSAL_TOOL}`] };
  if (check.ok) return finish('proposed', null, check.proposal);

  // One repair round: the model sees exactly what was wrong and may only hand in a corrected proposal.
  transcript.push({ kind: 'validation-failed', problems: check.problems });
  const feedback = `Your proposal was rejected:\n- ${check.problems.join('\n- ')}\nCall ${SUBMIT_PROPOSAL_TOOL} again with a corrected proposal.`;
  messages.push(
    submitted
      ? { role: 'tool', content: [{ type: 'tool-result', toolCallId: submitted.toolCallId, toolName: SUBMIT_PROPOSAL_TOOL, output: { type: 'error-text', value: feedback } }] }
      : { role: 'user', content: feedback },
  );
  try {
    const repairTools: ToolSet = { [SUBMIT_PROPOSAL_TOOL]: tools[SUBMIT_PROPOSAL_TOOL]! };
    const repair = await generateText({
      model: configured.model,
      system,
      messages,
      tools: repairTools,
      toolChoice: { type: 'tool', toolName: SUBMIT_PROPOSAL_TOOL },
      maxRetries: 0,
      maxOutputTokens: budget.maxOutputTokens,
      abortSignal: wallClock,
      stopWhen: stepCountIs(1),
      onStepFinish,
    });
    const again = submittedInput(repair.steps as Steps);
    check = again ? checkAgentProposal(again.input, catalog, allowedActions, input.context.evidence) : { ok: false, problems: [`no proposal: ${SUBMIT_PROPOSAL_TOOL} was not called`] };
  } catch (error) {
    if (!ToolChoiceViolationError.isInstance(error)) return failed(error);
    step += 1;
    check = { ok: false, problems: [`no proposal: ${SUBMIT_PROPOSAL_TOOL} was not called`] };
  }
  if (check.ok) return finish('proposed', 'accepted after one repair round', check.proposal);
  transcript.push({ kind: 'validation-failed', problems: check.problems });
  const reason = `the model's proposal was still invalid after a repair round: ${check.problems.join('; ')}`;
  return finish('no-action', reason, {
    diagnosis: `No action proposed; a human needs to look. ${reason}`,
    evidence: [...input.context.evidence],
    action: null,
    risk: 'low',
    confidence: 0,
    source: 'agent',
  });
}
