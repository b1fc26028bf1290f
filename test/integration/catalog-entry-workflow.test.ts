import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { startControlledExporter, type ControlledExporter } from '../../src/eval/controlled-exporter.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { startPrometheus, type RunningServer } from '../support/prometheus.js';
import { DEMO_CATALOG, startTestResponder, type TestResponder } from '../support/responder-harness.js';

// What a catalog entry's settings change in a real incident. Prometheus holds no rule for the alert, so
// there is no trusted expression: the entry's own verification query, filled with the inputs that ran,
// decides whether the remediation worked. An entry with supportsDryRun: false is never dry-run.

let scratch: string;
let service: PidfileService;
let exporter: ControlledExporter;
let prometheus: RunningServer;
let responder: TestResponder;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-catalog-verification-'));
  service = startPidfileService(scratch);
  const catalog = join(scratch, 'catalog');
  cpSync(DEMO_CATALOG, catalog, { recursive: true });
  const entryFile = join(catalog, 'restart-process.yaml');
  const entry = parse(readFileSync(entryFile, 'utf8')) as Record<string, unknown>;
  entry.verification = { description: 'the unit reports up', query: 'demo_unit_up{unit="{{ service }}"} == 0' };
  writeFileSync(entryFile, stringify(entry));
  writeFileSync(join(catalog, 'restart-unchecked.yaml'), stringify({ ...entry, id: 'restart-unchecked', supportsDryRun: false }));
  exporter = await startControlledExporter();
  exporter.set('demo_unit_up', 0, { unit: 'demo-service' });
  exporter.set('demo_unit_up', 0, { unit: 'other-service' });
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], rules: 'groups: []\n', scrapeInterval: '1s' });
  responder = await startTestResponder({
    prometheus: { url: prometheus.url },
    execution: { catalogDir: catalog, inventory: join(catalog, 'inventory.ini'), timeoutSeconds: 60 },
    verification: { timeoutSeconds: 8, intervalSeconds: 1 },
    routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
  });
}, 180_000);

afterAll(async () => {
  await responder?.cleanup();
  await prometheus?.stop();
  await exporter?.stop();
  service?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function restartApproved(remediation = 'restart-process'): Promise<string> {
  const response = await responder.post(
    '/hooks/alertmanager/test-intake-key',
    alertmanagerPayload([
      {
        labels: { alertname: 'UnitDown', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost', fp: String(Math.random()) },
        annotations: { summary: 'demo-service is down', remediation, pidfile: service.pidfile, start_command: service.command },
      },
    ]),
  );
  expect(response.status).toBe(202);
  const id = ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
  const waiting = await responder.waitFor(id, (r) => r.state !== 'received' && r.state !== 'investigating' && r.state !== 'proposed');
  expect(waiting.state, waiting.stateReason ?? '').toBe('awaiting_approval');
  // The alert claims `up == 0` (its generatorURL), which is not run: Prometheus has no such rule.
  expect(waiting.evidence?.find((e) => e.kind === 'expression')?.data).toMatchObject({ source: 'none', expression: null, alertClaim: 'up == 0' });
  expect(waiting.decision?.allow).toBe(true);
  expect((await responder.approve(id)).status).toBe(202);
  return id;
}

const settled = (r: IncidentRecord) => ['resolved', 'unverified', 'failed'].includes(r.state);

it('a unit that stays down after the restart fails the incident', async () => {
  const id = await restartApproved();
  const record = await responder.waitFor(id, settled);
  expect(record.state, record.stateReason ?? '').toBe('failed');
  expect(record.verification).toMatchObject({ outcome: 'still_firing', lastSeries: 1 });
});

it('a unit that comes back resolves it: the query is filled with the inputs that ran, not other units', async () => {
  const id = await restartApproved();
  await responder.waitFor(id, (r) => r.state === 'verifying' || settled(r));
  // Only the restarted unit recovers; the other one staying down must not matter.
  exporter.set('demo_unit_up', 1, { unit: 'demo-service' });
  const record = await responder.waitFor(id, settled);
  expect(record.state, record.stateReason ?? '').toBe('resolved');
  expect(record.verification).toMatchObject({ outcome: 'cleared' });
});

it('an action that declares no dry run is not dry-run: policy and people see it was skipped', async () => {
  const id = await restartApproved('restart-unchecked');
  const record = await responder.waitFor(id, settled);
  expect(record.dryRun).toMatchObject({ ok: false, skipped: true, outcome: 'skipped' });
  expect(record.dryRun?.output).toContain('supportsDryRun: false');
  expect(record.runs.map((r) => [r.kind, r.state])).toEqual([
    ['dry-run', 'skipped'],
    ['execute', 'succeeded'],
  ]);
});
