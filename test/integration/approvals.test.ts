import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { alertmanagerPayload, type TestAlert } from '../support/alert-payloads.js';
import { SECOND_APPROVER_TOKEN, VIEWER_TOKEN, startTestResponder, type TestResponder } from '../support/responder-harness.js';

let scratch: string;
let service: PidfileService;
let responder: TestResponder;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-approvals-'));
  service = startPidfileService(scratch);
  responder = await startTestResponder({ routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }] });
});

afterAll(async () => {
  await responder?.cleanup();
  service?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function alert(labels: Record<string, string> = {}): TestAlert {
  return {
    labels: { alertname: 'ServiceWedged', agentic: 'true', severity: 'critical', service: 'demo-service', host: 'localhost', ...labels },
    annotations: { summary: 'wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command },
  };
}

async function open(labels: Record<string, string> = {}): Promise<string> {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert(labels)]));
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

const settled = (r: IncidentRecord) => ['resolved', 'unverified', 'failed', 'denied', 'rejected', 'expired', 'diagnosed'].includes(r.state);
const waiting = (r: IncidentRecord) => r.state === 'awaiting_approval' || settled(r);
const code = async (response: Response) => ((await response.json()) as { code?: string }).code;
const executions = (record: IncidentRecord) => record.runs.filter((r) => r.kind === 'execute');

/** Waits until the incident asks for round `round` (after a modification), or settles. */
const roundOpen = (round: number) => (r: IncidentRecord) => settled(r) || (r.state === 'awaiting_approval' && r.approvalRequests.some((q) => q.round === round && q.state === 'open'));

describe('approvals bound to exactly what they approve', () => {
  it('a critical alert is not denied: it waits for a person, with the catalog risk and policy reasons on the request', async () => {
    const id = await open();
    const record = await responder.waitFor(id, waiting);
    expect(record.state, record.stateReason ?? '').toBe('awaiting_approval');
    const [request] = record.approvalRequests;
    expect(request).toMatchObject({ round: 1, state: 'open', approvalsRequired: 1, risk: 'low', actionId: 'restart-process', inputs: { service: 'demo-service', host: 'localhost' } });
    expect(request!.policyReasons).toContain('the alert is critical: a person decides');
    expect(request!.proposalHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await responder.approve(id, { approved: false, reason: 'not now' })).status).toBe(202);
  });

  it('ten concurrent approvals by one person count once: one 202, nine 409 already-decided', async () => {
    const id = await open({ service: 'keycloak' });
    const record = await responder.waitFor(id, waiting);
    expect(record.approvalRequests[0]!.approvalsRequired).toBe(2);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => responder.approve(id, { approved: true, reason: `click ${i}` })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    expect(new Set(await Promise.all(answers.filter((a) => a.status === 409).map(code)))).toEqual(new Set(['already-decided']));
    await new Promise((r) => setTimeout(r, 1000));
    const after = await responder.record(id);
    expect(after.state).toBe('awaiting_approval');
    expect(after.approvalRequests[0]!.decisions.map((d) => d.approver)).toEqual(['alice']);
    expect(executions(after)).toEqual([]);
    expect((await responder.approve(id, { approved: false, reason: 'clean up' }, SECOND_APPROVER_TOKEN)).status).toBe(202);
  });

  it('approve and reject at once: exactly one is applied, and at most one execution follows', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const id = await open();
      await responder.waitFor(id, waiting);
      const [approve, reject] = await Promise.all([
        responder.approve(id, { approved: true, reason: 'go' }),
        responder.approve(id, { approved: false, reason: 'stop' }, SECOND_APPROVER_TOKEN),
      ]);
      expect([approve.status, reject.status].filter((s) => s === 202)).toHaveLength(1);
      const loser = approve.status === 202 ? reject : approve;
      expect(loser.status).toBe(409);
      expect(['stale-request', 'not-awaiting-approval']).toContain(await code(loser));
      const record = await responder.waitFor(id, settled);
      if (approve.status === 202) {
        expect(record.state, record.stateReason ?? '').toBe('unverified');
        expect(executions(record)).toHaveLength(1);
      } else {
        expect(record.state).toBe('rejected');
        expect(executions(record)).toEqual([]);
      }
    }
  });

  it("two approvers and a modification: bob's approval of the original never counts for alice's change", async () => {
    const id = await open({ service: 'keycloak' });
    await responder.waitFor(id, waiting);
    // alice widens nothing but changes the service; bob, at the same moment, approves what he saw.
    const [modified, original] = await Promise.all([
      responder.approve(id, { approved: true, reason: 'restart the database instead', modifications: { service: 'postgresql' } }),
      responder.approve(id, { approved: true, reason: 'keycloak restart is fine' }, SECOND_APPROVER_TOKEN),
    ]);
    expect(modified.status).toBe(202);
    expect([202, 409]).toContain(original.status);
    const round2 = await responder.waitFor(id, roundOpen(2));
    expect(round2.state, round2.stateReason ?? '').toBe('awaiting_approval');
    const [first, second] = round2.approvalRequests;
    expect(first).toMatchObject({ round: 1, state: 'superseded', modifiedBy: 'alice', modifications: expect.objectContaining({ service: 'postgresql' }) });
    // Round 2 is for postgresql, also critical: alice's own approval carried over, bob's round-1 one did not.
    expect(second).toMatchObject({ round: 2, state: 'open', approvalsRequired: 2, inputs: expect.objectContaining({ service: 'postgresql' }) });
    expect(second!.decisions.map((d) => d.approver)).toEqual(['alice']);
    expect(executions(round2)).toEqual([]);

    // Without naming the request, a decision after a modification is refused: the person may have seen round 1.
    const blind = await responder.approve(id, { approved: true, reason: 'fine' }, SECOND_APPROVER_TOKEN);
    expect(blind.status).toBe(409);
    expect(await code(blind)).toBe('stale-request');
    const stale = await responder.approve(id, { approved: true, reason: 'fine', requestId: first!.id }, SECOND_APPROVER_TOKEN);
    expect(await code(stale)).toBe('stale-request');
    const again = await responder.approve(id, { approved: true, reason: 'me again', requestId: second!.id });
    expect(await code(again)).toBe('already-decided');

    expect((await responder.approve(id, { approved: true, reason: 'postgresql restart is fine', requestId: second!.id }, SECOND_APPROVER_TOKEN)).status).toBe(202);
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(executions(record)).toEqual([expect.objectContaining({ inputs: expect.objectContaining({ service: 'postgresql' }) })]);
    const approvedEvent = record.audit.find((e) => e.kind === 'approval.request.approved');
    expect(approvedEvent?.data).toMatchObject({ requestId: second!.id, proposalHash: second!.proposalHash });
  });

  it('a viewer cannot decide (403) and nothing is recorded', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const answer = await responder.approve(id, { approved: true, reason: 'I only watch' }, VIEWER_TOKEN);
    expect(answer.status).toBe(403);
    expect(await code(answer)).toBe('forbidden');
    expect((await responder.record(id)).approvals).toEqual([]);
    expect((await responder.approve(id, { approved: false, reason: 'clean up' })).status).toBe(202);
  });

  it('anonymous reads get 401 on the real server', async () => {
    expect((await fetch(`${responder.url}/api/v1/incidents`)).status).toBe(401);
    expect((await fetch(`${responder.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${responder.url}/healthz`)).status).toBe(200);
  });
});

describe('host: all is refused from every source', () => {
  it('from an alert label: the runbook mapping is refused before any dry-run', async () => {
    const id = await open({ host: 'all' });
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('diagnosed');
    expect(record.proposal?.diagnosis).toMatch(/host: must name exactly one inventory host .*"all" is not one of: localhost/);
    expect(record.runs).toEqual([]);
  });

  it('from a group or pattern in an alert label, too', async () => {
    for (const host of ['ungrouped', 'local*', 'localhost,other']) {
      const record = await responder.waitFor(await open({ host }), settled);
      expect(record.state, host).toBe('diagnosed');
      expect(record.runs, host).toEqual([]);
    }
  });

  it('from an approver\'s modification: 400 invalid-modifications, nothing recorded or run', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const answer = await responder.approve(id, { approved: true, reason: 'everywhere', modifications: { host: 'all' } });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { code: string; errors: { message: string }[] };
    expect(body.code).toBe('invalid-modifications');
    expect(body.errors[0]!.message).toContain('must name exactly one inventory host');
    const record = await responder.record(id);
    expect(record.approvals).toEqual([]);
    expect(record.runs.map((r) => r.inputs.host)).toEqual(['localhost']);
    expect((await responder.approve(id, { approved: false, reason: 'clean up' })).status).toBe(202);
  });
});
