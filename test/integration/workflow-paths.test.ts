import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import { alertmanagerPayload, type TestAlert } from '../support/alert-payloads.js';
import { freePort } from '../../src/eval/free-port.js';
import { OPA_BIN, POLICY_DIR } from '../support/opa-server.js';
import { REPO, SECOND_APPROVER_TOKEN, startTestResponder, type TestResponder } from '../support/responder-harness.js';

let scratch: string;
let service: PidfileService;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-paths-'));
  service = startPidfileService(scratch);
});

afterAll(() => {
  service.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function restartAlert(overrides: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): TestAlert {
  return {
    labels: { alertname: 'ServiceWedged', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost', ...overrides.labels },
    annotations: { summary: 'demo-service is wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command, ...overrides.annotations },
  };
}

async function open(responder: TestResponder, alert: TestAlert): Promise<string> {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

const settled = (r: IncidentRecord) => ['resolved', 'unverified', 'failed', 'denied', 'rejected', 'expired', 'diagnosed'].includes(r.state);
const awaiting = (r: IncidentRecord) => r.state === 'awaiting_approval' || settled(r);

describe('one responder, many paths', () => {
  let responder: TestResponder;

  beforeAll(async () => {
    responder = await startTestResponder({
      routes: [
        { name: 'automatic', matchers: ['agentic="true"', 'mode="auto"'], mode: 'auto' },
        { name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' },
      ],
    });
  });
  afterAll(async () => responder?.cleanup());

  it('a rejection ends the incident and nothing executes', async () => {
    const id = await open(responder, restartAlert());
    expect((await responder.waitFor(id, awaiting)).state).toBe('awaiting_approval');
    const answer = await responder.approve(id, { approved: false, reason: 'not during the release' });
    expect(answer.status).toBe(202);
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('rejected');
    expect(record.stateReason).toBe('not during the release');
    expect(record.runs.map((r) => r.kind)).toEqual(['dry-run']);
  });

  it('the resume API refuses a missing or unknown token, a bad body, and an incident not awaiting approval', async () => {
    const id = await open(responder, restartAlert());
    await responder.waitFor(id, awaiting);
    const noToken = await responder.post(`/api/v1/incidents/${id}/resume`, { approved: true, reason: 'x' });
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { code: string }).code).toBe('unauthenticated');
    expect((await responder.approve(id, { approved: true, reason: 'x' }, 'not-a-token')).status).toBe(401);
    const noReason = await responder.approve(id, { approved: true });
    expect(noReason.status).toBe(400);
    expect(((await noReason.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('reason');
    const badModification = await responder.approve(id, { approved: true, reason: 'x', modifications: { command: 'rm -rf /; echo' } });
    expect(badModification.status).toBe(400);
    expect(((await badModification.json()) as { code: string }).code).toBe('invalid-modifications');
    expect((await responder.record(id)).state).toBe('awaiting_approval');

    await responder.approve(id, { approved: false, reason: 'done here' });
    await responder.waitFor(id, settled);
    const late = await responder.approve(id, { approved: true, reason: 'too late' });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { detail: string }).detail).toBe('its state is rejected');
    const unknown = await responder.approve('00000000-0000-4000-8000-000000000000', { approved: true, reason: 'x' });
    expect(unknown.status).toBe(404);
  });

  it('approved modifications are dry-run and policy-checked again, then run as modified', async () => {
    const id = await open(responder, restartAlert());
    await responder.waitFor(id, awaiting);
    const answer = await responder.approve(id, { approved: true, reason: 'use the canonical unit name', modifications: { service: 'demo-service-renamed' } }, SECOND_APPROVER_TOKEN);
    expect(answer.status).toBe(202);
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.runs.map((r) => [r.kind, r.inputs.service])).toEqual([
      ['dry-run', 'demo-service'],
      ['dry-run', 'demo-service-renamed'],
      ['execute', 'demo-service-renamed'],
    ]);
    expect(record.audit.filter((e) => e.kind === 'policy.decision')).toHaveLength(2);
    // Round 1 ends with bob's modification; round 2 asks for the new inputs, which bob approved by making them.
    expect(record.approvalRequests.map((r) => [r.round, r.state, r.inputs.service])).toEqual([
      [1, 'superseded', 'demo-service'],
      [2, 'approved', 'demo-service-renamed'],
    ]);
    expect(record.approvals).toEqual([
      expect.objectContaining({ requestId: record.approvalRequests[0]!.id, approver: 'bob', modifications: { service: 'demo-service-renamed' } }),
      expect.objectContaining({ requestId: record.approvalRequests[1]!.id, approver: 'bob', modifications: null }),
    ]);
  });

  it('auto mode: policy allows a low-risk, confident action to run with no human', async () => {
    const id = await open(responder, restartAlert({ labels: { mode: 'auto' } }));
    const record = await responder.waitFor(id, settled);
    // No Prometheus is configured: the remediation ran and succeeded, and nothing could check it.
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.stateReason).toMatch(/^remediation succeeded but was not verified: /);
    expect(record.verification).toMatchObject({ outcome: 'skipped' });
    expect(record.runs.map((r) => [r.kind, r.state])).toEqual([['dry-run', 'succeeded'], ['execute', 'succeeded']]);
    expect(record.approvals).toEqual([]);
    expect(record.decision).toMatchObject({ allow: true, auto_execute: true, approvals_required: 0 });
    const approved = record.audit.find((e) => e.kind === 'incident.state' && (e.data as { to: string }).to === 'approved');
    expect(approved?.actor).toBe('policy');
  });

  it('an unknown remediation is never run: the incident ends diagnosed, saying why', async () => {
    const id = await open(responder, restartAlert({ annotations: { remediation: 'format-disk' } }));
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('diagnosed');
    expect((record.proposal as { diagnosis: string }).diagnosis).toMatch(/"format-disk", which is not in the catalog/);
    expect(record.runs).toEqual([]);
  });

  it('inputs that fail the action schema are never run', async () => {
    const id = await open(responder, restartAlert({ annotations: { pidfile: 'relative/path; rm -rf /' } }));
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('diagnosed');
    expect((record.proposal as { diagnosis: string }).diagnosis).toMatch(/cannot be filled from this alert: pidfile: must be an absolute path of letters, digits and \. _ - \/ only/);
    expect(record.runs).toEqual([]);
  });

  it('a failing dry-run makes policy deny', async () => {
    const id = await open(responder, restartAlert({ annotations: { pidfile: join(scratch, 'missing.pid') } }));
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('denied');
    expect(record.stateReason).toMatch(/dry run failed/);
    expect(record.runs.map((r) => [r.kind, r.state])).toEqual([['dry-run', 'failed']]);
    expect(record.runs[0]!.output).toMatch(/missing\.pid/);
  });

  it('a failing playbook fails the incident with the playbook output kept', async () => {
    const failing = join(scratch, 'failing-start.sh');
    writeFileSync(failing, '#!/bin/sh\necho "demo-service: port 8080 already in use" >&2\nexit 3\n');
    chmodSync(failing, 0o755);
    const id = await open(responder, restartAlert({ annotations: { start_command: failing } }));
    await responder.waitFor(id, awaiting);
    await responder.approve(id);
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('failed');
    expect(record.stateReason).toMatch(/remediation failed/);
    const run = record.runs.find((r) => r.kind === 'execute')!;
    expect(run.state).toBe('failed');
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toMatch(/port 8080 already in use/);
  });

  it('a resolved alert closes an incident waiting for approval, and approval is then refused', async () => {
    const alert = { ...restartAlert(), fingerprint: 'resolve-while-waiting', startsAt: '2026-11-28T06:00:00.000Z' };
    const id = await open(responder, alert);
    await responder.waitFor(id, awaiting);
    const resolved = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ ...alert, status: 'resolved' }], 'resolved'));
    expect(resolved.status).toBe(202);
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('resolved');
    expect(record.stateReason).toBe('alert resolved before any remediation ran');
    expect((await responder.approve(id)).status).toBe(409);
    expect(record.runs.map((r) => r.kind)).toEqual(['dry-run']);
  });

  it('exposes readiness and metrics', async () => {
    const ready = await fetch(`${responder.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: { ok: true }, policy: { ok: true } } });
    const metrics = await (await responder.get('/metrics')).text();
    expect(metrics).toMatch(/responder_incidents\{state="rejected"\} [1-9]/);
    expect(metrics).toMatch(/responder_incidents\{state="unverified"\} [1-9]/);
    expect(metrics).toMatch(/responder_remediation_runs_total\{kind="execute",state="succeeded",failure=""\} [1-9]/);
    expect(metrics).toMatch(/responder_remediation_runs_total\{kind="execute",state="failed",failure="exit-status"\} [1-9]/);
    expect(metrics).toMatch(/responder_webhook_requests_total\{source="alertmanager",outcome="accepted"\} [1-9]/);
    expect(metrics).toMatch(/responder_stage_duration_seconds_count\{stage="dry-run",outcome="ok"\} [1-9]/);
  });
});

describe('the fixture catalog: two approvers, a play that matches no host', () => {
  let responder: TestResponder;
  beforeAll(async () => {
    const catalog = join(REPO, 'test/fixtures/remediations');
    responder = await startTestResponder({
      routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
      execution: { catalogDir: catalog, inventory: join(catalog, 'inventory.ini'), timeoutSeconds: 60 },
    });
  });
  afterAll(async () => responder?.cleanup());

  it('policy asks for two distinct people; the same person twice does not count', async () => {
    if (!service.isAlive()) spawnSync(service.command);
    const id = await open(responder, restartAlert({ labels: { service: 'keycloak' }, annotations: { remediation: 'scale-process' } }));
    const waiting = await responder.waitFor(id, awaiting);
    expect(waiting.state, waiting.stateReason ?? '').toBe('awaiting_approval');
    expect(waiting.decision).toMatchObject({ allow: true, approvals_required: 2 });
    expect((await responder.approve(id, { approved: true, reason: 'first' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await responder.record(id)).state).toBe('awaiting_approval');
    const again = await responder.approve(id, { approved: true, reason: 'me again' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('already-decided');
    expect((await responder.approve(id, { approved: true, reason: 'second pair of eyes' }, SECOND_APPROVER_TOKEN)).status).toBe(202);
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    const approved = record.audit.find((e) => e.kind === 'incident.state' && (e.data as { to: string }).to === 'approved');
    expect(approved?.actor).toBe('alice,bob');
  });

  it('a dry run that matched no host fails (no-hosts-matched): policy sees dry_run.ok = false and denies', async () => {
    const id = await open(responder, restartAlert({ annotations: { remediation: 'restart-database-group' } }));
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('denied');
    expect(record.stateReason).toMatch(/dry run failed/);
    expect(record.runs.map((r) => [r.kind, r.state, r.failure, r.exitCode])).toEqual([['dry-run', 'failed', 'no-hosts-matched', 0]]);
    expect(record.dryRun).toMatchObject({ ok: false, skipped: false, outcome: 'failed', failure: 'no-hosts-matched' });
    expect(record.decision?.input.incident.dry_run).toEqual({ ok: false, skipped: false });
    expect(record.runs[0]!.output).toMatch(/skipping: no hosts matched/);
  });
});

describe('approval deadline', () => {
  let responder: TestResponder;
  let receiver: Server;
  const escalations: unknown[] = [];

  beforeAll(async () => {
    const port = await freePort();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        escalations.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(port, '127.0.0.1', done));
    responder = await startTestResponder({
      routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
      approval: { timeoutMinutes: 0.05, escalationWebhookUrl: `http://127.0.0.1:${port}/escalate` },
    });
  });
  afterAll(async () => {
    await responder?.cleanup();
    receiver?.close();
  });

  it('an unanswered request expires and is escalated', async () => {
    const id = await open(responder, restartAlert());
    // The state turns expired first and the escalation is sent after it: wait for its audit event, which
    // is written once the webhook answered, before looking at what the receiver got.
    const record = await responder.waitFor(id, (r) => r.audit.some((e) => e.kind === 'approval.escalated'), 30_000);
    expect(record.state).toBe('expired');
    expect(record.stateReason).toMatch(/no decision within 3s; escalated/);
    expect(escalations).toEqual([expect.objectContaining({ kind: 'approval-expired', incidentId: id, alert: 'ServiceWedged' })]);
    expect(record.audit.find((e) => e.kind === 'approval.escalated')?.data).toMatchObject({ delivered: true, status: 204 });
    expect(record.runs.map((r) => r.kind)).toEqual(['dry-run']);
  });
});

describe('OPA unreachable', () => {
  let responder: TestResponder;
  let opa: ChildProcess | undefined;
  let opaPort: number;

  beforeAll(async () => {
    opaPort = await freePort();
    responder = await startTestResponder({
      routes: [{ name: 'agentic', matchers: ['agentic="true"', 'mode="auto"'], mode: 'auto' }],
      policy: { url: `http://127.0.0.1:${opaPort}`, retrySeconds: 1, timeoutMs: 500 },
    });
  });
  afterAll(async () => {
    opa?.kill();
    await responder?.cleanup();
  });

  it('the incident waits and retries, never executes unchecked, and continues once OPA answers', async () => {
    // An earlier test left the service stopped by a failed restart; bring it back so this restart can succeed.
    if (!service.isAlive()) spawnSync(service.command);
    const id = await open(responder, restartAlert({ labels: { mode: 'auto' } }));
    const waiting = await responder.waitFor(id, (r) => r.audit.filter((e) => e.kind === 'policy.unavailable').length >= 2);
    expect(waiting.state).toBe('proposed');
    expect(waiting.runs.map((r) => r.kind)).toEqual(['dry-run']);
    const unavailable = waiting.audit.find((e) => e.kind === 'policy.unavailable')!;
    expect((unavailable.data as { reason: string }).reason).toMatch(new RegExp(`OPA at http://127.0.0.1:${opaPort} unreachable`));
    const notReady = await fetch(`${responder.url}/readyz`);
    expect(notReady.status).toBe(503);

    opa = spawn(OPA_BIN, ['run', '--server', '--addr', `127.0.0.1:${opaPort}`, '--log-level', 'error', POLICY_DIR], { stdio: 'ignore' });
    const record = await responder.waitFor(id, settled, 30_000);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.runs.map((r) => r.kind)).toEqual(['dry-run', 'execute']);
  });
});
