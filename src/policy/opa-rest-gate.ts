import { z } from 'zod';
import type { PolicyDecision, PolicyInput, PolicyOutcome } from '../domain/decision.js';
import { denyDecision, readPolicyDecision, type PolicyGate } from './policy-gate.js';

export interface OpaRestGateOptions {
  /** OPA base URL, e.g. http://127.0.0.1:8181. */
  url: string;
  /** Slash-separated path under /v1/data, e.g. responder/incident_response/decision. */
  decisionPath: string;
  timeoutMs: number;
}

/** OPA's Data API answer; `result` is absent when the path is undefined. */
export const OpaDataResponseSchema = z.object({
  result: z.unknown().optional(),
  provenance: z
    .object({ bundles: z.record(z.object({ revision: z.string().optional() }).passthrough()).optional() })
    .passthrough()
    .optional()
    // Provenance only labels the decision; an odd one must not turn a good answer into a deny.
    .catch(undefined),
});
export type OpaDataResponse = z.infer<typeof OpaDataResponseSchema>;

const EVALUATOR = 'opa-rest';
const ERROR_BODY_LIMIT = 500;

/** Bundle revisions name which policy decided; a policy loaded from plain files has none. */
function revisionOf(answer: OpaDataResponse): string | null {
  const bundles = Object.entries(answer.provenance?.bundles ?? {})
    .filter(([, bundle]) => bundle.revision)
    .sort(([a], [b]) => a.localeCompare(b));
  if (bundles.length === 0) return null;
  if (bundles.length === 1) return bundles[0]?.[1].revision ?? null;
  return bundles.map(([name, bundle]) => `${name}@${bundle.revision}`).join(', ');
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `did not answer within ${timeoutMs} ms`;
  // undici reports "fetch failed" and keeps the socket error (ECONNREFUSED, ENOTFOUND, ...) in cause.
  const cause = (error as { cause?: unknown } | null)?.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === 'string') return `unreachable: ${cause.code}`;
  if (typeof cause?.message === 'string' && cause.message) return `unreachable: ${cause.message}`;
  return `unreachable: ${error instanceof Error ? error.message : String(error)}`;
}

/** OPA's error body: a summary, plus the evaluation errors that say where the policy went wrong. */
const OpaErrorSchema = z.object({
  code: z.string().optional(),
  message: z.string(),
  errors: z.array(z.object({ code: z.string().optional(), message: z.string() }).passthrough()).optional(),
});

function errorDetail(body: string): string {
  let text = body;
  try {
    const error = OpaErrorSchema.parse(JSON.parse(body));
    const parts = [error.code ? `${error.code}: ${error.message}` : error.message];
    for (const detail of error.errors ?? []) parts.push(detail.code ? `${detail.code}: ${detail.message}` : detail.message);
    text = parts.join('; ');
  } catch {
    // not OPA's JSON error shape; show the raw text
  }
  // Reasons land in one-line logs and audit events.
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > ERROR_BODY_LIMIT ? `${text.slice(0, ERROR_BODY_LIMIT)}…` : text;
}

/** Asks a running OPA server over its REST Data API. */
export function createOpaRestGate(options: OpaRestGateOptions): PolicyGate {
  const base = options.url.replace(/\/+$/, '');
  const path = options.decisionPath.replace(/^\/+|\/+$/g, '');
  // provenance carries bundle revisions, so each decision can name the policy version behind it.
  const decisionUrl = `${base}/v1/data/${path}?provenance=true`;
  const where = `OPA at ${base}`;

  return {
    name: EVALUATOR,

    async evaluate(input: PolicyInput): Promise<PolicyOutcome> {
      let status: number;
      let body: string;
      try {
        // One signal covers connect, headers and body, so a server that stalls mid-answer still times out.
        const response = await fetch(decisionUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ input }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        status = response.status;
        body = await response.text();
      } catch (error) {
        return { kind: 'unavailable', reason: `${where} ${describeFetchFailure(error, options.timeoutMs)}` };
      }
      if (status < 200 || status > 299) {
        const detail = errorDetail(body);
        return { kind: 'unavailable', reason: `${where} answered HTTP ${status}${detail ? `: ${detail}` : ''}` };
      }

      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        // OPA answered but not with JSON (a proxy page, say): nothing to trust, so deny rather than retry forever.
        return decided(denyDecision(`${where} answered with a body that is not JSON`), null);
      }
      const answer = OpaDataResponseSchema.safeParse(json);
      if (!answer.success) {
        return decided(denyDecision(`${where} answered with an unexpected shape: ${answer.error.issues[0]?.message ?? 'not an object'}`), null);
      }
      return decided(readPolicyDecision(answer.data.result), revisionOf(answer.data));
    },

    async ready(): Promise<boolean> {
      try {
        const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(options.timeoutMs) });
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false;
      }
    },
  };
}

function decided(decision: PolicyDecision, revision: string | null): PolicyOutcome {
  return { kind: 'decided', decision, evaluator: EVALUATOR, revision };
}
