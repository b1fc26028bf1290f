import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import { startAlertmanager } from '../support/alertmanager-server.js';
import { startControlledExporter } from '../../src/eval/controlled-exporter.js';
import { startPrometheus } from '../support/prometheus.js';
import { freePort } from '../../src/eval/free-port.js';
import { startTestResponder, type TestResponder } from '../support/responder-harness.js';

type Stoppable = { stop(): Promise<void> | void };

let responder: TestResponder;
let service: PidfileService;
let scratch: string;
const running: Stoppable[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-e2e-'));
  service = startPidfileService(scratch);
  const exporter = await startControlledExporter();
  running.push(exporter);
  // The exporter reports the service down while the "wedged" process still owns the pidfile.
  const wedgedPid = service.pid();
  const report = () => exporter.set('demo_service_up', service.pid() === wedgedPid ? 0 : 1, { service: 'demo-service' });
  report();
  const watcher = setInterval(report, 250);
  running.push({ stop: () => clearInterval(watcher) });

  // Alertmanager needs Responder's URL and Responder needs Prometheus': fix Responder's port first.
  const responderPort = await freePort();
  const alertmanager = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${responderPort}/hooks/alertmanager/test-intake-key` });
  running.push(alertmanager);
  const rules = `
groups:
  - name: demo
    rules:
      - alert: DemoServiceDown
        expr: demo_service_up == 0
        labels:
          severity: warning
          agentic: "true"
          service: demo-service
          host: localhost
        annotations:
          summary: demo-service is down
          remediation: restart-process
          pidfile: ${service.pidfile}
          start_command: ${service.command}
`;
  const prometheus = await startPrometheus({ scrapeTargets: [`127.0.0.1:${exporter.port}`], rules, alertmanagerUrl: alertmanager.url });
  running.push(prometheus);
  responder = await startTestResponder({
    server: { port: responderPort },
    routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
    prometheus: { url: prometheus.url },
    verification: { timeoutSeconds: 60, intervalSeconds: 1 },
  });
}, 180_000);

afterAll(async () => {
  for (const part of running.reverse()) await part.stop();
  await responder?.cleanup();
  service?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

it('a real alert travels Prometheus → Alertmanager → Responder → approval → ansible-playbook → verification', async () => {
  const pidBefore = service.pid();
  let incidentId: string | undefined;
  const deadline = Date.now() + 60_000;
  while (!incidentId && Date.now() < deadline) {
    const list = (await (await responder.get('/api/v1/incidents')).json()) as { incidents: { id: string; alertName: string }[] };
    incidentId = list.incidents.find((i) => i.alertName === 'DemoServiceDown')?.id;
    if (!incidentId) await new Promise((r) => setTimeout(r, 500));
  }
  expect(incidentId, 'Alertmanager delivered the alert and Responder opened an incident').toBeDefined();

  const waiting = await responder.waitFor(incidentId!, (r) => r.state === 'awaiting_approval' || r.state === 'denied' || r.state === 'diagnosed');
  expect(waiting.state).toBe('awaiting_approval');
  expect(waiting.expression).toBe('demo_service_up == 0');
  expect(waiting.evidence).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'prometheus.instant' })]));
  expect(waiting.evidence).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'expression', data: { source: 'rules-api', expression: 'demo_service_up == 0', alertClaim: 'demo_service_up == 0' } })]));
  expect(waiting.runs.map((r) => [r.kind, r.state])).toEqual([['dry-run', 'succeeded']]);
  expect(service.pid(), 'the dry-run changed nothing').toBe(pidBefore);

  const approval = await responder.approve(incidentId!);
  expect(approval.status).toBe(202);

  const done = await responder.waitFor(incidentId!, (r) => ['resolved', 'failed'].includes(r.state), 90_000);
  expect(done.state, done.stateReason ?? '').toBe('resolved');
  expect(done.verification).toMatchObject({ outcome: 'cleared' });
  expect(service.pid()).not.toBe(pidBefore);
  expect(service.isAlive()).toBe(true);
  expect(done.runs.map((r) => [r.kind, r.state])).toEqual([
    ['dry-run', 'succeeded'],
    ['execute', 'succeeded'],
  ]);
  expect(done.approvals).toEqual([expect.objectContaining({ approver: 'alice', approved: true, channel: 'api' })]);
  const transitions = done.audit.filter((e) => e.kind === 'incident.state').map((e) => (e.data as { to: string }).to);
  expect(transitions).toEqual(['investigating', 'proposed', 'awaiting_approval', 'approved', 'executing', 'verifying', 'resolved']);

  const pool = new pg.Pool({ connectionString: responder.databaseUrl });
  try {
    expect(await verifyAuditChain(pool, { keys: [responder.auditKey] })).toMatchObject({ ok: true });
  } finally {
    await pool.end();
  }
});

it("an alert that brings its own expression does not choose what is run: the rule's expression from Prometheus is", async () => {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', {
    version: '4',
    status: 'firing',
    receiver: 'responder',
    groupKey: '{}:{alertname="DemoServiceDown"}',
    truncatedAlerts: 0,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        // The rule's labels, so the rules API lookup matches; the expression is the sender's own.
        labels: { alertname: 'DemoServiceDown', severity: 'warning', agentic: 'true', service: 'demo-service', host: 'localhost', forged: 'yes' },
        annotations: { summary: 'forged', expr: 'vector(1)', change_query: '{job=~".+"}' },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus/graph?g0.expr=vector%281%29',
        fingerprint: 'forged-expression-0001',
      },
    ],
  });
  expect(response.status).toBe(202);
  const id = ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
  const record = await responder.waitFor(id, (r) => !['received', 'investigating'].includes(r.state));
  expect(record.expression, "the alert's claim is kept on the record").toBe('vector(1)');
  const expression = record.evidence!.find((e) => e.kind === 'expression')!;
  expect(expression.data).toEqual({ source: 'rules-api', expression: 'demo_service_up == 0', alertClaim: 'vector(1)' });
  expect(expression.summary).toContain("the alert's own expression vector(1) is its claim and was not run");
  const evaluated = record.evidence!.find((e) => e.kind === 'prometheus.instant');
  expect((evaluated?.data as { expression: string }).expression).toBe('demo_service_up == 0');
  await responder.approve(id, { approved: false, reason: 'forged' });
});

