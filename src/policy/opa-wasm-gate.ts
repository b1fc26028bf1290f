import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { PolicyDecision, PolicyInput, PolicyOutcome } from '../domain/decision.js';
import { PolicyError } from '../domain/errors.js';
import { DECISION_ENTRYPOINT } from './build-policy-bundle.js';
import { readPolicyBundle } from './policy-bundle-file.js';
import { denyDecision, readPolicyDecision, type PolicyGate } from './policy-gate.js';

export const OPA_WASM_EVALUATOR = 'opa-wasm';

const REASON_LIMIT = 500;

export interface OpaWasmGateOptions {
  /** A .tar.gz built by `opa build -t wasm -e responder/incident_response/decision`. */
  bundleFile: string;
}

/** opa-wasm throws plain strings (from opa_abort and for a bad entrypoint), not only Errors. */
function describeFailure(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim() || 'unknown error';
  // Reasons land in one-line logs and audit events.
  return text.length > REASON_LIMIT ? `${text.slice(0, REASON_LIMIT)}…` : text;
}

/**
 * Evaluates the built bundle in-process: no OPA server to run, the same Rego semantics. A bundle
 * that cannot be loaded, or that does not answer the decision question, fails here at start-up
 * rather than on the first incident.
 */
export async function createOpaWasmGate(options: OpaWasmGateOptions): Promise<PolicyGate> {
  const bundle = await readPolicyBundle(options.bundleFile);
  let policy: Awaited<ReturnType<typeof loadPolicy>>;
  try {
    policy = await loadPolicy(bundle.wasm);
    policy.setData(bundle.data);
  } catch (error) {
    throw new PolicyError('policy_bundle_unreadable', `cannot load the wasm policy in ${options.bundleFile}: ${describeFailure(error)}`, undefined, {
      cause: error,
    });
  }
  // Falling back to the module's default entrypoint would answer some other rule's question.
  const entrypoints = Object.keys((policy.entrypoints ?? {}) as Record<string, number>);
  if (!entrypoints.includes(DECISION_ENTRYPOINT)) {
    throw new PolicyError(
      'policy_bundle_unreadable',
      `policy bundle ${options.bundleFile} has no entrypoint ${DECISION_ENTRYPOINT} (it has: ${entrypoints.join(', ') || 'none'}); rebuild it with \`responder policy build\``,
    );
  }

  const decided = (decision: PolicyDecision): PolicyOutcome => ({ kind: 'decided', decision, evaluator: OPA_WASM_EVALUATOR, revision: bundle.revision });

  return {
    name: OPA_WASM_EVALUATOR,

    async evaluate(input: PolicyInput): Promise<PolicyOutcome> {
      let results: unknown;
      try {
        results = policy.evaluate(input, DECISION_ENTRYPOINT);
      } catch (error) {
        // The module is in this process and will fail the same way on a retry, so deny instead of waiting.
        return decided(denyDecision(`policy evaluation failed: ${describeFailure(error)}`));
      }
      // An empty result set is OPA's "undefined"; readPolicyDecision turns it into a deny.
      const first: unknown = Array.isArray(results) ? results[0] : undefined;
      const result = typeof first === 'object' && first !== null ? (first as { result?: unknown }).result : undefined;
      return decided(readPolicyDecision(result));
    },

    async ready(): Promise<boolean> {
      // Loading is the only thing that can fail, and a gate exists only once loading succeeded.
      return true;
    },
  };
}
