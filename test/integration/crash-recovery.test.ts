import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { startControlledExporter } from '../../src/eval/controlled-exporter.js';
import { freePort } from '../../src/eval/free-port.js';
import { startPrometheus } from '../support/prometheus.js';
import { APPROVER_TOKEN, DEMO_CATALOG, REPO, makeDataDir } from '../support/responder-harness.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';

type Stoppable = { stop(): Promise<void> | void };
const cleanups: Stoppable[] = [];
let prometheusUrl: string;
let slowProxy: { url: string; setDelay(ms: number): void; server: Server };

/** Forwards to the real Prometheus after a delay the test sets: holds the workflow inside a step. */
async function startDelayingProxy(target: string): Promise<typeof slowProxy> {
  let delay = 0;
  const port = await freePort();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(async () => {
        try {
          const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? '' }, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        } catch {
          res.destroy();
        }
      }, delay);
    });
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${port}`, setDelay: (ms) => (delay = ms), server };
}

interface Scenario {
  dataDir: string;
  port: number;
  config: Record<string, unknown>;
  service: PidfileService;
  counter: string;
}

async function scenario(): Promise<Scenario> {
  const dataDir = makeDataDir();
  const scratch = mkdtempSync(join(tmpdir(), 'responder-crash-'));
  cleanups.push({ stop: () => rmSync(scratch, { recursive: true, force: true }) });
  const service = startPidfileService(scratch);
  cleanups.push(service);
  // A slow restart that counts how often it really ran.
  const counter = join(scratch, 'restarts');
  const slowStart = join(scratch, 'slow-start.sh');
  writeFileSync(slowStart, `#!/bin/sh\necho run >> "${counter}"\nsleep 6\nexec "${service.command}"\n`);
  chmodSync(slowStart, 0o755);
  const port = await freePort();
  const config = {
    dataDir,
    server: { port },
    database: { embeddedPort: await freePort() },
    // The alert's expression (crash_test_down == 1, which holds 0) decides verification, so a remediation that ran ends resolved, not unverified.
    intake: { key: 'crash-key', trustAlertExpressions: true },
    auth: { tokens: [`alice:${APPROVER_TOKEN}`] },
    routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
    prometheus: { url: slowProxy.url, timeoutMs: 60_000 },
    execution: { catalogDir: DEMO_CATALOG, inventory: join(DEMO_CATALOG, 'inventory.ini'), timeoutSeconds: 60 },
    policy: { policyDir: join(REPO, 'policies'), retrySeconds: 1 },
    verification: { timeoutSeconds: 10, intervalSeconds: 1 },
    log: { level: 'info' },
  };
  cleanups.push({ stop: () => rmSync(dataDir, { recursive: true, force: true }) });
  return { dataDir, port, config, service: { ...service, command: slowStart }, counter };
}

async function sendAlert(svc: ServiceProcess, s: Scenario): Promise<string> {
  const payload = alertmanagerPayload([
    {
      labels: { alertname: 'CrashTest', agentic: 'true', service: 'demo-service', host: 'localhost', severity: 'warning' },
      annotations: { remediation: 'restart-process', pidfile: s.service.pidfile, start_command: s.service.command },
      generatorURL: `http://prometheus/graph?g0.expr=${encodeURIComponent('crash_test_down == 1')}`,
    },
  ]);
  const response = await fetch(`${svc.url}/hooks/alertmanager/crash-key`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

async function waitFor(url: string, id: string, predicate: (r: IncidentRecord) => boolean, timeoutMs = 60_000): Promise<IncidentRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentRecord | undefined;
  while (Date.now() < deadline) {
    last = (await (await fetch(`${url}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } })).json()) as IncidentRecord;
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out; last state ${last?.state}`);
}

const transitionsOf = (r: IncidentRecord) => r.audit.filter((e) => e.kind === 'incident.state').map((e) => (e.data as { to: string }).to);
const restarts = (s: Scenario) => (existsSync(s.counter) ? readFileSync(s.counter, 'utf8').trim().split('\n').length : 0);

function postgresAlive(dataDir: string): boolean {
  const pidfile = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(pidfile)) return false;
  try {
    process.kill(Number(readFileSync(pidfile, 'utf8').split('\n')[0]), 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  const exporter = await startControlledExporter();
  cleanups.push(exporter);
  exporter.set('crash_test_down', 0);
  const prometheus = await startPrometheus({ scrapeTargets: [`127.0.0.1:${exporter.port}`], rules: 'groups: []\n' });
  cleanups.push(prometheus);
  prometheusUrl = prometheus.url;
  slowProxy = await startDelayingProxy(prometheusUrl);
  cleanups.push({ stop: () => new Promise<void>((done) => slowProxy.server.close(() => done())) });
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c.stop()).catch(() => {});
});

describe('stopped (kill -9 or SIGTERM) and restarted: the incident continues without repeating completed steps', () => {
  it('while investigating', async () => {
    const s = await scenario();
    slowProxy.setDelay(8000);
    let svc = await startServiceProcess(s);
    const id = await sendAlert(svc, s);
    await waitFor(svc.url, id, (r) => r.state === 'investigating');
    await svc.kill9();
    // The watchdog stops the orphaned embedded PostgreSQL on its own.
    await expect.poll(() => postgresAlive(s.dataDir), { timeout: 10_000 }).toBe(false);
    slowProxy.setDelay(0);
    svc = await startServiceProcess(s);
    try {
      const record = await waitFor(svc.url, id, (r) => r.state === 'awaiting_approval');
      expect(transitionsOf(record)).toEqual(['investigating', 'proposed', 'awaiting_approval']);
      expect(record.runs.filter((r) => r.kind === 'dry-run')).toHaveLength(1);
    } finally {
      await svc.stop();
    }
  });

  it('while awaiting approval', async () => {
    const s = await scenario();
    let svc = await startServiceProcess(s);
    const id = await sendAlert(svc, s);
    await waitFor(svc.url, id, (r) => r.state === 'awaiting_approval');
    await svc.kill9();
    svc = await startServiceProcess(s);
    try {
      const approval = await fetch(`${svc.url}/api/v1/incidents/${id}/resume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${APPROVER_TOKEN}` },
        body: JSON.stringify({ approved: true, reason: 'after restart' }),
      });
      expect(approval.status).toBe(202);
      const record = await waitFor(svc.url, id, (r) => r.state === 'resolved' || r.state === 'failed');
      expect(record.state, record.stateReason ?? '').toBe('resolved');
      expect(transitionsOf(record)).toEqual(['investigating', 'proposed', 'awaiting_approval', 'approved', 'executing', 'verifying', 'resolved']);
      expect(record.runs.map((r) => r.kind)).toEqual(['dry-run', 'execute']);
      expect(restarts(s)).toBe(1);
    } finally {
      await svc.stop();
    }
  });

  it('a graceful stop (SIGTERM) while awaiting approval exits 0 and the incident still waits after restart', async () => {
    const s = await scenario();
    let svc = await startServiceProcess(s);
    const id = await sendAlert(svc, s);
    await waitFor(svc.url, id, (r) => r.state === 'awaiting_approval');
    expect(await svc.stop()).toBe(0);
    expect(postgresAlive(s.dataDir)).toBe(false);
    svc = await startServiceProcess(s);
    try {
      const record = await waitFor(svc.url, id, () => true);
      expect(record.state).toBe('awaiting_approval');
      expect(record.audit.every((e) => e.seq !== null), 'every event was sealed before the database stopped').toBe(true);
    } finally {
      await svc.stop();
    }
  });

  it('while executing: the run becomes unknown and is never re-run', async () => {
    const s = await scenario();
    let svc = await startServiceProcess(s);
    const id = await sendAlert(svc, s);
    await waitFor(svc.url, id, (r) => r.state === 'awaiting_approval');
    await fetch(`${svc.url}/api/v1/incidents/${id}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${APPROVER_TOKEN}` },
      body: JSON.stringify({ approved: true, reason: 'go' }),
    });
    await waitFor(svc.url, id, (r) => r.state === 'executing' && r.runs.some((run) => run.kind === 'execute' && run.state === 'running'));
    await expect.poll(() => restarts(s), { timeout: 10_000 }).toBe(1);
    await svc.kill9();
    svc = await startServiceProcess(s);
    try {
      const record = await waitFor(svc.url, id, (r) => r.state === 'failed' || r.state === 'resolved');
      expect(record.state).toBe('failed');
      expect(record.stateReason).toMatch(/outcome unknown/);
      expect(record.runs.find((r) => r.kind === 'execute')?.state).toBe('unknown');
      // Give a wrongful re-run time to show itself.
      await new Promise((r) => setTimeout(r, 8000));
      expect(restarts(s)).toBe(1);
    } finally {
      await svc.stop();
    }
  });
});
