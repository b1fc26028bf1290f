import { z } from 'zod';
import type { RunFailure } from '../domain/incident.js';
import { JsonObjectSchema, type JsonObject } from '../domain/json-value.js';
import type { ExecutionPlan, ExecutionResult, Executor } from './executor.js';
import { readCappedBody } from './read-capped-body.js';

export type KestraAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string } | null;

export interface KestraExecutorOptions {
  /** Kestra's base URL, e.g. http://kestra:8080. */
  url: string;
  /** Newer Kestra scopes the API by tenant: /api/v1/<tenant>/executions/... */
  tenant?: string;
  auth: KestraAuth;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  /** The whole run, start to a final state; past it the execution is killed and the run is timed_out. */
  timeoutSeconds: number;
}

/**
 * The parts of Kestra's Execution this executor reads (GET /api/v1/executions/{id} and the answer to
 * POST /api/v1/executions/{namespace}/{flowId}). The id becomes part of a URL path: it must look like one.
 */
const KestraExecutionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  namespace: z.string().optional(),
  flowId: z.string().optional(),
  state: z.object({ current: z.string() }),
  outputs: JsonObjectSchema.nullish(),
  taskRunList: z
    .array(z.object({ taskId: z.string(), state: z.object({ current: z.string() }) }).passthrough())
    .nullish(),
});
type KestraExecution = z.infer<typeof KestraExecutionSchema>;

const RUNNING_STATES = new Set(['CREATED', 'QUEUED', 'RUNNING', 'PAUSED', 'RESTARTED', 'KILLING', 'RETRYING', 'BREAKPOINT', 'SUBMITTED', 'RESUBMITTED']);
/** Final states and what they mean here. WARNING is a task that failed and was allowed to: not a clean success. */
const FINAL_STATES: Record<string, { outcome: 'succeeded' } | { outcome: 'failed'; failure: RunFailure }> = {
  SUCCESS: { outcome: 'succeeded' },
  WARNING: { outcome: 'failed', failure: 'exit-status' },
  FAILED: { outcome: 'failed', failure: 'exit-status' },
  KILLED: { outcome: 'failed', failure: 'exit-status' },
  CANCELLED: { outcome: 'failed', failure: 'exit-status' },
  RETRIED: { outcome: 'failed', failure: 'exit-status' },
  // The execution was skipped: nothing ran.
  SKIPPED: { outcome: 'failed', failure: 'no-hosts-matched' },
};

const MAX_ANSWER_BYTES = 1024 * 1024;

/** A form field per input: strings as they are, everything else as JSON (Kestra parses JSON, ARRAY and numeric inputs from text). */
/**
 * Kestra labels naming the Responder run, so an operator finds the execution of an incident in Kestra's UI
 * (filter by label) and the other way round. Label values are kept to characters Kestra accepts anywhere.
 */
export function correlationLabels(runId: string, dryRun: boolean): string {
  const query = new URLSearchParams();
  query.append('labels', `responder-run:${runId.replaceAll(/[^A-Za-z0-9_.-]/g, '-')}`);
  query.append('labels', `responder-dry-run:${dryRun}`);
  return query.toString();
}

export function toFormData(inputs: JsonObject, extra: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(inputs)) form.append(name, typeof value === 'string' ? value : JSON.stringify(value));
  for (const [name, value] of Object.entries(extra)) form.append(name, value);
  return form;
}

function authorization(auth: KestraAuth): Record<string, string> {
  if (!auth) return {};
  if (auth.kind === 'bearer') return { authorization: `Bearer ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
}

function describe(execution: KestraExecution): string {
  const tasks = (execution.taskRunList ?? []).map((t) => `  ${t.taskId}: ${t.state.current}`);
  return [`kestra execution ${execution.id} of ${execution.namespace ?? '?'}.${execution.flowId ?? '?'}: ${execution.state.current}`, ...tasks].join('\n');
}

class KestraAnswerError extends Error {
  constructor(
    readonly failure: RunFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs a catalog action as a Kestra flow (the seed's subflows in `platform.remediation`): starts an execution
 * with the inputs as form fields, follows it to a final state, and maps its outputs. Inputs are data in a
 * multipart body, never part of a URL; namespace and flow id come from the catalog and are escaped anyway.
 */
export function createKestraExecutor(options: KestraExecutorOptions): Executor {
  const base = options.url.replace(/\/+$/, '');
  const api = `${base}/api/v1/${options.tenant ? `${encodeURIComponent(options.tenant)}/` : ''}executions`;
  const headers = authorization(options.auth);

  async function request(method: string, url: string, body?: FormData): Promise<{ status: number; text: string }> {
    let response: Response;
    try {
      // A redirect could carry the credentials elsewhere: refused, like any answer that is not Kestra's.
      response = await fetch(url, { method, headers: { accept: 'application/json', ...headers }, body, redirect: 'manual', signal: AbortSignal.timeout(options.requestTimeoutMs) });
    } catch (error) {
      throw new KestraAnswerError('unreachable', `Kestra at ${base} unreachable: ${(error as Error).message}`);
    }
    const { bytes: buffer, truncated } = await readCappedBody(response, MAX_ANSWER_BYTES);
    if (truncated) throw new KestraAnswerError('invalid-response', `Kestra answered ${method} ${url} with more than ${MAX_ANSWER_BYTES} bytes`);
    return { status: response.status, text: buffer.toString('utf8') };
  }

  function parseExecution(text: string, what: string): KestraExecution {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new KestraAnswerError('invalid-response', `Kestra's answer to ${what} is not JSON: ${text.slice(0, 200)}`);
    }
    const parsed = KestraExecutionSchema.safeParse(json);
    if (!parsed.success) throw new KestraAnswerError('invalid-response', `Kestra's answer to ${what} is not an execution: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  async function kill(id: string): Promise<void> {
    await request('DELETE', `${api}/${encodeURIComponent(id)}/kill`).catch(() => undefined);
  }

  async function invoke(plan: ExecutionPlan, dryRun: boolean): Promise<ExecutionResult> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    const flow = plan.entry.kestra;
    if (!flow) return { outcome: 'failed', failure: 'not-started', exitCode: null, output: `remediation ${plan.entry.id} names no kestra flow`, durationMs: 0 };
    if (dryRun && !flow.dryRunInput) {
      return { outcome: 'skipped', exitCode: null, output: `flow ${flow.namespace}.${flow.flowId} has no dry-run input (kestra.dryRunInput): nothing was checked before approval`, durationMs: 0 };
    }
    const extra = dryRun && flow.dryRunInput ? { [flow.dryRunInput]: 'true' } : {};
    if (flow.dryRunInput && !dryRun && flow.dryRunInput in plan.inputs) {
      return { outcome: 'failed', failure: 'not-started', exitCode: null, output: `input ${flow.dryRunInput} is the flow's dry-run switch and cannot be an action input`, durationMs: 0 };
    }
    let execution: KestraExecution | null = null;
    try {
      const start = await request('POST', `${api}/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.flowId)}?${correlationLabels(plan.runId, dryRun)}`, toFormData(plan.inputs, extra));
      if (start.status < 200 || start.status > 299) {
        return { outcome: 'failed', failure: 'not-started', exitCode: null, output: `Kestra refused to start ${flow.namespace}.${flow.flowId}: HTTP ${start.status} ${start.text.slice(0, 500)}`, durationMs: elapsed() };
      }
      execution = parseExecution(start.text, 'starting the execution');
      const deadline = started + options.timeoutSeconds * 1000;
      for (;;) {
        const state = execution.state.current;
        const final = FINAL_STATES[state];
        if (final) {
          const outputs = execution.outputs ?? {};
          const output = describe(execution);
          if (final.outcome === 'succeeded') return { outcome: 'succeeded', exitCode: null, output, outputs, durationMs: elapsed() };
          return { outcome: 'failed', failure: final.failure, exitCode: null, output, outputs, durationMs: elapsed() };
        }
        if (!RUNNING_STATES.has(state)) throw new KestraAnswerError('invalid-response', `Kestra reported execution ${execution.id} in state ${JSON.stringify(state)}, which is not one this executor knows`);
        if (plan.signal?.aborted) {
          await kill(execution.id);
          return { outcome: 'cancelled', exitCode: null, output: `${describe(execution)}\n[cancelled: Kestra was asked to kill execution ${execution.id}]`, durationMs: elapsed() };
        }
        if (Date.now() >= deadline) {
          await kill(execution.id);
          return { outcome: 'timed_out', exitCode: null, output: `${describe(execution)}\n[killed after ${options.timeoutSeconds}s timeout]`, durationMs: elapsed() };
        }
        await sleep(options.pollIntervalMs, plan.signal);
        const polled = await request('GET', `${api}/${encodeURIComponent(execution.id)}`).catch((error: unknown) => {
          // The execution runs on in Kestra: a lost poll is retried until the deadline, not a failure.
          if (error instanceof KestraAnswerError && error.failure === 'unreachable') return null;
          throw error;
        });
        if (polled === null || polled.status >= 500) continue;
        if (polled.status !== 200) throw new KestraAnswerError('invalid-response', `Kestra answered HTTP ${polled.status} for execution ${execution.id}: ${polled.text.slice(0, 300)}`);
        const next = parseExecution(polled.text, `GET execution ${execution.id}`);
        if (next.id !== execution.id) throw new KestraAnswerError('invalid-response', `Kestra answered for execution ${next.id} when asked about ${execution.id}`);
        execution = next;
      }
    } catch (error) {
      if (!(error instanceof KestraAnswerError)) throw error;
      const context = execution ? `${describe(execution)}\n` : '';
      const maybeStarted = !execution && error.failure === 'unreachable' ? '\n[the execution may have started in Kestra all the same: check it there before anything re-runs]' : '';
      return { outcome: 'failed', failure: error.failure, exitCode: null, output: `${context}${error.message}${maybeStarted}`, durationMs: elapsed() };
    }
  }

  return {
    name: 'kestra',
    dryRun: (plan) => invoke(plan, true),
    run: (plan) => invoke(plan, false),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
