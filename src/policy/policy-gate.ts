import {
  PolicyDecisionSchema,
  type PolicyDecision,
  type PolicyInput,
  type PolicyOutcome,
} from '../domain/decision.js';

/**
 * Asks policy whether one proposed remediation may run. Expected outcomes are return values: a
 * decision (possibly a deny), or `unavailable` when the evaluator could not be asked at all, which
 * the workflow waits out instead of executing unchecked.
 */
export interface PolicyGate {
  /** Recorded with every decision as its evaluator, e.g. "opa-rest". */
  readonly name: string;
  evaluate(input: PolicyInput): Promise<PolicyOutcome>;
  /** True when the evaluator answers; for /readyz, not a precondition of evaluate. */
  ready(): Promise<boolean>;
}

export const NO_DECISION_REASON = 'policy returned no decision (undefined rule)';

/** A deny that asks for the most scrutiny, for answers that cannot be trusted. */
export function denyDecision(reason: string): PolicyDecision {
  return { allow: false, deny: [reason], require_approval: true, approvals_required: 1, auto_execute: false, reasons: [] };
}

/**
 * Reads the value OPA evaluated at the decision path (`undefined` when OPA had no result) into a
 * decision, failing closed: a missing or malformed decision is a deny that says what was wrong.
 */
export function readPolicyDecision(result: unknown): PolicyDecision {
  // OPA answers {} for an undefined rule; that is a policy bug or a wrong path, never a permit.
  if (result === undefined) return denyDecision(NO_DECISION_REASON);
  const parsed = PolicyDecisionSchema.safeParse(result);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return denyDecision(`policy returned a malformed decision (${problems.join('; ')})`);
  }
  const decision = parsed.data;
  // A policy that allows while listing deny reasons contradicts itself; the reasons win.
  const allow = decision.allow && decision.deny.length === 0;
  // Auto-execution needs all three to agree, so one buggy field cannot skip the humans.
  const autoExecute = allow && decision.auto_execute && !decision.require_approval;
  return { ...decision, allow, auto_execute: autoExecute };
}
