import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { PolicyInput, PolicyOutcome } from '../domain/decision.js';
import { DECISION_ENTRYPOINT } from './build-policy-bundle.js';
import { readPolicyBundle } from './policy-bundle-file.js';
import { denyDecision, readPolicyDecision, type PolicyGate } from './policy-gate.js';

export const OPA_WASM_EVALUATOR = 'opa-wasm';

/** Evaluates the built bundle in-process: no OPA server to run, the same Rego semantics. */
export async function createOpaWasmGate(options: { bundleFile: string }): Promise<PolicyGate> {
  const bundle = await readPolicyBundle(options.bundleFile);
  const policy = await loadPolicy(bundle.wasm);
  policy.setData(bundle.data);
  const entrypoint = bundle.entrypoints.includes(DECISION_ENTRYPOINT) ? DECISION_ENTRYPOINT : undefined;
  return {
    name: OPA_WASM_EVALUATOR,
    async evaluate(input: PolicyInput): Promise<PolicyOutcome> {
      try {
        const results = policy.evaluate(input, entrypoint) as { result?: unknown }[] | undefined;
        // An empty result set is OPA's "undefined": readPolicyDecision turns it into a deny.
        return { kind: 'decided', decision: readPolicyDecision(results?.[0]?.result), evaluator: OPA_WASM_EVALUATOR, revision: bundle.revision };
      } catch (error) {
        return {
          kind: 'decided',
          decision: denyDecision(`policy evaluation failed: ${(error as Error).message}`),
          evaluator: OPA_WASM_EVALUATOR,
          revision: bundle.revision,
        };
      }
    },
    async ready() {
      return true;
    },
  };
}
