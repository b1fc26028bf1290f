import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PolicyInput } from '../../src/domain/decision.js';
import { createOpaRestGate } from '../../src/policy/opa-rest-gate.js';
import { createOpaWasmGate } from '../../src/policy/opa-wasm-gate.js';
import { POLICY_DIR, startOpaServer, type OpaServer } from '../support/opa-server.js';
import { REPO } from '../support/responder-harness.js';

const COUNT = 3000;

/** mulberry32: small, seeded, so a failing input can be regenerated from its index. */
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

function generate(index: number): PolicyInput {
  const next = random(index + 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const target = pick(['nginx', 'api', 'openbao', 'OpenBao.service', 'step-ca', 'keycloak@main.service', 'postgresql@16-main.service', 'monitoring-stack', 'vm-12', '']);
  return {
    version: 1,
    action: {
      id: pick(['restart-service', 'scale-deployment', 'rollback-config', 'clear-disk-space', 'block-host', 'query-logs']),
      type: pick(['restart', 'scale', 'rollback', 'clear-disk', 'block-host', 'read', 'format-disk', 'reboot']),
      target,
      target_type: pick(['service', 'vm', 'host', 'deployment', 'config', 'network']),
      inputs: { target, replicas: Math.floor(next() * 10) },
      risk: pick(['low', 'medium', 'high'] as const),
      read_only: next() < 0.2,
      destructive: next() < 0.3,
    },
    alert: { name: 'Generated', severity: pick(['critical', 'CRITICAL', 'warning', 'info', 'page', 'unknown']), instance: pick(['web1:9100', null]), labels: { job: 'x' } },
    incident: {
      id: `generated-${index}`,
      mode: pick(['diagnose-only', 'approve', 'auto'] as const),
      confidence: pick([0, 0.5, 0.79, 0.8, 0.81, 1, next()]),
      dry_run: pick([
        { ok: true, skipped: false },
        { ok: false, skipped: false },
        { ok: false, skipped: true },
      ]),
    },
    history: { target_remediations_last_hour: Math.floor(next() * 8) },
    requester: 'differential',
  };
}

let opa: OpaServer;
beforeAll(async () => {
  opa = await startOpaServer({ policyDir: POLICY_DIR });
});
afterAll(async () => opa?.stop());

it(`the wasm gate and the REST gate on a real OPA decide ${COUNT} generated inputs identically`, async () => {
  const wasm = await createOpaWasmGate({ bundleFile: join(REPO, 'policy-bundle/incident_response.tar.gz') });
  const rest = createOpaRestGate({ url: opa.url, decisionPath: 'responder/incident_response/decision', timeoutMs: 10_000 });
  const mismatches: { index: number; wasm: unknown; rest: unknown }[] = [];
  const outcomes = new Map<string, number>();
  for (let start = 0; start < COUNT; start += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, COUNT - start) }, async (_, offset) => {
        const index = start + offset;
        const input = generate(index);
        const [a, b] = await Promise.all([wasm.evaluate(input), rest.evaluate(input)]);
        if (a.kind !== 'decided' || b.kind !== 'decided') throw new Error(`input ${index}: no decision`);
        const key = a.decision.allow ? (a.decision.auto_execute ? 'auto' : `approve-${a.decision.approvals_required}`) : 'deny';
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (JSON.stringify(a.decision) !== JSON.stringify(b.decision)) mismatches.push({ index, wasm: a.decision, rest: b.decision });
      }),
    );
  }
  console.log(`compared ${COUNT} decisions; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
  expect(mismatches.slice(0, 5)).toEqual([]);
  // The generator must reach every kind of outcome, or the comparison proves little.
  expect([...outcomes.keys()].sort()).toEqual(['approve-1', 'approve-2', 'auto', 'deny']);
}, 120_000);
