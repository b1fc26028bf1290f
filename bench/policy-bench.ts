/**
 * Policy decisions per second and latency: the in-process wasm gate against the REST gate on a
 * real `opa run -s`, same policy, same inputs, one run.
 *
 *   npm run bench:policy -- [--decisions 5000] [--concurrency 8]
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot, resolveTool } from '../src/config/package-paths.js';
import type { PolicyInput } from '../src/domain/decision.js';
import { startLocalOpaServer } from '../src/policy/local-opa-server.js';
import { createOpaRestGate } from '../src/policy/opa-rest-gate.js';
import { createOpaWasmGate } from '../src/policy/opa-wasm-gate.js';
import type { PolicyGate } from '../src/policy/policy-gate.js';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '8' } } });
const DECISIONS = Number(values.decisions);
const CONCURRENCY = Number(values.concurrency);

function input(i: number): PolicyInput {
  const targets = ['nginx', 'openbao', 'api', 'postgresql.service', 'worker@2'];
  return {
    version: 1,
    action: { id: 'restart-service', type: i % 7 === 0 ? 'scale' : 'restart', target: targets[i % targets.length]!, target_type: 'service', inputs: { service: 'x' }, targets: [{ input: 'service', kind: 'service', value: targets[i % targets.length]! }], risk: i % 2 ? 'low' : 'medium', read_only: false, destructive: false },
    alert: { name: 'Bench', severity: i % 5 === 0 ? 'critical' : 'warning', instance: 'host:9100', labels: { job: 'node' } },
    incident: { id: `i${i}`, mode: i % 3 === 0 ? 'auto' : 'approve', confidence: (i % 10) / 10, dry_run: { ok: i % 11 !== 0, skipped: false } },
    history: { target_remediations_last_hour: i % 7 },
    requester: 'bench',
  };
}

async function measure(gate: PolicyGate): Promise<{ perSecond: number; p50: number; p99: number }> {
  for (let i = 0; i < 200; i++) await gate.evaluate(input(i));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < DECISIONS) {
        const i = next++;
        const t0 = performance.now();
        const outcome = await gate.evaluate(input(i));
        latencies.push(performance.now() - t0);
        if (outcome.kind !== 'decided') throw new Error(`no decision: ${outcome.reason}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  return { perSecond: DECISIONS / seconds, p50: at(50), p99: at(99) };
}

async function main(): Promise<void> {
  const root = packageRoot();
  const wasm = await createOpaWasmGate({ bundleFile: join(root, 'policy-bundle/incident_response.tar.gz') });
  const opa = await startLocalOpaServer({ binary: resolveTool('opa'), policyDir: join(root, 'policies') });
  try {
    const rest = createOpaRestGate({ url: opa.url, decisionPath: 'responder/incident_response/decision', timeoutMs: 5000 });
    const rows = [
      ['in-process wasm (opa-wasm)', await measure(wasm)],
      ['REST Data API, local `opa run -s`', await measure(rest)],
    ] as const;
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(`${DECISIONS} decisions, ${CONCURRENCY} concurrent callers, policies/incident_response.rego\n`);
    console.log('| evaluator | decisions/s | p50 ms | p99 ms |\n|---|---|---|---|');
    for (const [name, r] of rows) console.log(`| ${name} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`);
  } finally {
    await opa.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
