import { z } from 'zod';
import { JsonObjectSchema } from '../domain/json-value.js';
import type { ExecutionPlan, ExecutionResult, Executor } from './executor.js';
import { readCappedBody } from './read-capped-body.js';

export interface HttpEndpoint {
  name: string;
  url: string;
  token?: string;
  /** The header carrying the token, e.g. Authorization or X-Api-Key. */
  header: string;
  /** Put before the token (Bearer); empty for a bare key. */
  scheme: string;
  timeoutMs: number;
  /** The endpoint understands {"dryRun": true} and changes nothing then. */
  dryRun: boolean;
}

/** What the endpoint sends to Responder: POST <url> with this JSON body. */
export const HttpActionRequestSchema = z.object({
  action: z.string(),
  runId: z.string(),
  dryRun: z.boolean(),
  inputs: JsonObjectSchema,
});
export type HttpActionRequest = z.infer<typeof HttpActionRequestSchema>;

/**
 * What the endpoint must answer, with a 2xx status. Anything else, a 200 with another body included, is a
 * failure: an endpoint that cannot say what it did has not shown that it did it. `nothing-done` is the
 * endpoint saying it acted on nothing (no matching target).
 */
export const HttpActionAnswerSchema = z.object({
  outcome: z.enum(['succeeded', 'failed', 'nothing-done']),
  output: z.string().max(256 * 1024).optional(),
  outputs: JsonObjectSchema.optional(),
});

const MAX_ANSWER_BYTES = 1024 * 1024;


/**
 * Runs a catalog action by POSTing it as JSON to an endpoint named in config (execution.http.endpoints).
 * The inputs travel only in the JSON body; the URL is the operator's, never built from them.
 */
export function createHttpExecutor(endpoints: readonly HttpEndpoint[]): Executor {
  const byName = new Map(endpoints.map((e) => [e.name, e]));

  async function invoke(plan: ExecutionPlan, dryRun: boolean): Promise<ExecutionResult> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    const name = plan.entry.http?.endpoint;
    const endpoint = name ? byName.get(name) : undefined;
    if (!endpoint) {
      return { outcome: 'failed', failure: 'not-started', exitCode: null, output: `remediation ${plan.entry.id} names HTTP endpoint ${JSON.stringify(name ?? null)}, which execution.http.endpoints does not have`, durationMs: 0 };
    }
    if (dryRun && !endpoint.dryRun) {
      return { outcome: 'skipped', exitCode: null, output: `endpoint ${endpoint.name} does not support a dry run (execution.http.endpoints[].dryRun): nothing was checked before approval`, durationMs: 0 };
    }
    const body: HttpActionRequest = { action: plan.entry.id, runId: plan.runId, dryRun, inputs: plan.inputs };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (endpoint.token) headers[endpoint.header.toLowerCase()] = endpoint.scheme ? `${endpoint.scheme} ${endpoint.token}` : endpoint.token;
    const timeout = AbortSignal.timeout(endpoint.timeoutMs);
    const signal = plan.signal ? AbortSignal.any([timeout, plan.signal]) : timeout;
    let response: Response;
    let text: string;
    let truncated: boolean;
    try {
      // No redirects: one would carry the token to wherever it points.
      response = await fetch(endpoint.url, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual', signal });
      const answer = await readCappedBody(response, MAX_ANSWER_BYTES);
      text = answer.bytes.toString('utf8');
      truncated = answer.truncated;
    } catch (error) {
      if (plan.signal?.aborted) {
        return { outcome: 'cancelled', exitCode: null, output: `cancelled: the request to ${endpoint.name} was aborted; the endpoint may still finish what it started`, durationMs: elapsed() };
      }
      if (timeout.aborted) return { outcome: 'timed_out', exitCode: null, output: `no answer from ${endpoint.name} within ${endpoint.timeoutMs} ms; it may still be acting`, durationMs: elapsed() };
      return { outcome: 'failed', failure: 'unreachable', exitCode: null, output: `endpoint ${endpoint.name} unreachable: ${(error as Error).message}`, durationMs: elapsed() };
    }
    const status = `HTTP ${response.status}`;
    if (response.status < 200 || response.status > 299) {
      return { outcome: 'failed', failure: 'exit-status', exitCode: null, output: `${endpoint.name} answered ${status}: ${text.slice(0, 2000)}`, durationMs: elapsed() };
    }
    if (truncated) {
      return { outcome: 'failed', failure: 'invalid-response', exitCode: null, output: `${endpoint.name} answered ${status} with more than ${MAX_ANSWER_BYTES} bytes; read no further: ${text.slice(0, 500)}`, durationMs: elapsed() };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { outcome: 'failed', failure: 'invalid-response', exitCode: null, output: `${endpoint.name} answered ${status} with a body that is not JSON: ${text.slice(0, 500)}`, durationMs: elapsed() };
    }
    const answer = HttpActionAnswerSchema.safeParse(json);
    if (!answer.success) {
      const problems = answer.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      return { outcome: 'failed', failure: 'invalid-response', exitCode: null, output: `${endpoint.name} answered ${status} without an outcome Responder can read (${problems}): ${text.slice(0, 500)}`, durationMs: elapsed() };
    }
    const output = `${endpoint.name} answered ${status}: ${answer.data.outcome}${answer.data.output ? `\n${answer.data.output}` : ''}`;
    const outputs = answer.data.outputs;
    if (answer.data.outcome === 'succeeded') return { outcome: 'succeeded', exitCode: null, output, outputs, durationMs: elapsed() };
    return { outcome: 'failed', failure: answer.data.outcome === 'nothing-done' ? 'no-hosts-matched' : 'exit-status', exitCode: null, output, outputs, durationMs: elapsed() };
  }

  return {
    name: 'http',
    dryRun: (plan) => invoke(plan, true),
    run: (plan) => invoke(plan, false),
  };
}
