import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PolicyDecision, PolicyInput, PolicyOutcome } from '../../src/domain/decision.js';
import { DECISION_ENTRYPOINT, policySourceRevision } from '../../src/policy/build-policy-bundle.js';
import { createOpaRestGate } from '../../src/policy/opa-rest-gate.js';
import { createOpaWasmGate } from '../../src/policy/opa-wasm-gate.js';
import type { PolicyGate } from '../../src/policy/policy-gate.js';
import { POLICY_DIR, REPO_ROOT, startOpaServer, type OpaServer } from '../support/opa-server.js';

const COUNT = 4000;
const SEED = 0x5eed;
/** REST requests in flight at once: enough to keep OPA busy on two cores without queueing in the client. */
const BATCH = 50;

/** mulberry32: small and seeded, so a failing input can be regenerated from its index alone. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Known types, unknown ones, and near misses in case and spelling.
const TYPES = ['restart', 'scale', 'rollback', 'clear-disk', 'block-host', 'read', 'inspect', 'format-disk', 'reboot', 'Restart', ''];
// Critical services bare, as systemd units, templated, in upper case; and names that only look critical.
const TARGETS = [
  'nginx',
  'api',
  'openbao',
  'OpenBao.service',
  'openbao@x',
  'step-ca',
  'step-ca@x.service',
  'keycloak@main.service',
  'postgresql@16-main.service',
  'POSTGRESQL',
  'monitoring-stack.service',
  'openbao-proxy',
  'postgresql.socket',
  'vm-12',
  '',
];
const TARGET_TYPES = ['service', 'vm', 'host', 'deployment', 'config', 'network'];
const SEVERITIES = ['critical', 'CRITICAL', 'Critical', 'warning', 'info', 'page', ''];
// Modes the schema would reject too: the policy has a rule for them, so both gates must agree on it.
const MODES = ['diagnose-only', 'approve', 'auto', 'auto', 'yolo'];
const DRY_RUNS = [
  { ok: true, skipped: false },
  { ok: false, skipped: false },
  { ok: false, skipped: true },
  { ok: true, skipped: true },
];

function generate(index: number): PolicyInput {
  const next = random(SEED ^ Math.imul(index + 1, 0x9e3779b1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const target = pick(TARGETS);
  return {
    // Mostly version 1; the rest exercises the version rule and its sprintf of a number.
    version: (next() < 0.03 ? 2 : 1) as 1,
    action: {
      id: `generated-action-${index}`,
      type: pick(TYPES),
      target,
      target_type: pick(TARGET_TYPES),
      inputs: { target, replicas: Math.floor(next() * 10) },
      targets: pick([
        [],
        [{ input: 'service', kind: 'service' as const, value: pick(TARGETS) }],
        [{ input: 'host', kind: 'host' as const, value: 'web1' }],
        [
          { input: 'deployment', kind: 'deployment' as const, value: pick(['jellyfin', 'Keycloak', 'keycloak.service']) },
          { input: 'namespace', kind: 'namespace' as const, value: pick(['media', 'kube-system', 'KUBE-SYSTEM', 'kube-system-x']) },
        ],
      ]),
      risk: pick(['low', 'low', 'medium', 'high'] as const),
      read_only: next() < 0.25,
      destructive: next() < 0.3,
    },
    alert: { name: 'Generated', severity: pick(SEVERITIES), instance: pick(['web1:9100', null]), labels: { job: 'generated' } },
    incident: {
      id: `generated-${index}`,
      mode: pick(MODES) as PolicyInput['incident']['mode'],
      // Around the auto threshold of 0.8, where float comparison could differ between evaluators.
      confidence: pick([0, 0.5, 0.79, 0.7999999, 0.8, 0.8000001, 0.81, 0.95, 1, next()]),
      dry_run: pick(DRY_RUNS),
    },
    history: { target_remediations_last_hour: Math.floor(next() * 8) },
    requester: 'differential',
  };
}

/** Every deny rule of the policy; the generator must reach each, or agreement on it proves nothing. */
const DENY_RULES: Record<string, RegExp> = {
  version: /^policy input version \S+ is not supported/,
  'unknown type': /^action type .* is not permitted by policy$/,
  'diagnose-only': /^diagnose-only mode never executes$/,
  'unknown mode': /^mode \S+ is not known to policy$/,
  'destructive on vm': /^destructive action .* on vm .* is not allowed$/,
  'rate limit': /^target .* had \d+ remediations in the last hour \(limit 5\)$/,
  'dry run': /^dry run failed$/,
};

function kindOf(decision: PolicyDecision): string {
  if (!decision.allow) return 'deny';
  return decision.auto_execute ? 'auto' : `approve-${decision.approvals_required}`;
}

function decisionOf(index: number, evaluator: string, outcome: PolicyOutcome): PolicyDecision {
  if (outcome.kind !== 'decided') throw new Error(`input ${index}: ${evaluator} gave no decision: ${outcome.reason}`);
  return outcome.decision;
}

let opa: OpaServer;
let wasm: PolicyGate;
let rest: PolicyGate;

beforeAll(async () => {
  // REST answers from the Rego sources, wasm from the committed build of them: the comparison also covers the build.
  opa = await startOpaServer({ policyDir: POLICY_DIR });
  rest = createOpaRestGate({ url: opa.url, decisionPath: DECISION_ENTRYPOINT, timeoutMs: 10_000 });
  wasm = await createOpaWasmGate({ bundleFile: join(REPO_ROOT, 'policy-bundle', 'incident_response.tar.gz') });
});
afterAll(async () => opa?.stop());

it(`the wasm gate and the REST gate on a real OPA decide ${COUNT} generated inputs identically`, async () => {
  const mismatches: { index: number; input: PolicyInput; wasm: PolicyDecision; rest: PolicyDecision }[] = [];
  const kinds = new Map<string, number>();
  const rulesHit = new Set<string>();
  const started = performance.now();

  for (let start = 0; start < COUNT; start += BATCH) {
    const indexes = Array.from({ length: Math.min(BATCH, COUNT - start) }, (_, offset) => start + offset);
    await Promise.all(
      indexes.map(async (index) => {
        const input = generate(index);
        const [fromWasm, fromRest] = await Promise.all([wasm.evaluate(input), rest.evaluate(input)]);
        const a = decisionOf(index, wasm.name, fromWasm);
        const b = decisionOf(index, rest.name, fromRest);
        if (fromWasm.kind === 'decided') expect(fromWasm.revision).toBe(policySourceRevision(POLICY_DIR));
        kinds.set(kindOf(a), (kinds.get(kindOf(a)) ?? 0) + 1);
        for (const [rule, pattern] of Object.entries(DENY_RULES)) if (a.deny.some((reason) => pattern.test(reason))) rulesHit.add(rule);
        if (!isDeepStrictEqual(a, b)) mismatches.push({ index, input, wasm: a, rest: b });
      }),
    );
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(
    `compared ${COUNT} decisions (wasm vs REST) in ${seconds.toFixed(1)} s; ${mismatches.length} differ; ` +
      `outcomes ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`,
  );
  expect(mismatches.slice(0, 5)).toEqual([]);
  // A generator that never reaches an outcome or a deny rule would let the gates drift there unseen.
  expect([...kinds.keys()].sort()).toEqual(['approve-1', 'approve-2', 'auto', 'deny']);
  expect([...rulesHit].sort()).toEqual(Object.keys(DENY_RULES).sort());
}, 120_000);
