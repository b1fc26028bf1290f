import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { startFakeKestra, type FakeKestra } from '../../src/testing/fake-kestra.js';
import { closeServer, listenOnLoopback, readBody } from '../../src/testing/listen-on-loopback.js';
import { alertmanagerPayload, type TestAlert } from '../support/alert-payloads.js';
import { startPrometheus, type RunningServer } from '../support/prometheus.js';
import { APPROVER_TOKEN, SECOND_APPROVER_TOKEN, VIEWER_TOKEN, startTestResponder, type TestResponder } from '../support/responder-harness.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
let scratch: string;

/** A catalog of actions this test controls: a restart that sleeps as long as the alert says, and a config change with its rollback. */
function writeCatalog(dir: string): void {
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local ansible_python_interpreter=auto_silent\n');
  const entry = (id: string, type: string, playbook: string, extra = '') => `id: ${id}
title: ${id}
type: ${type}
risk: low
targetType: service
targetInput: service
targets: { service: service, host: host }
executor: ansible
playbook: ${id}.yml
inputs:
  type: object
  additionalProperties: false
  required: [service, host, note]
  properties:
    service: { type: string, pattern: '^[a-z0-9-]{1,40}$' }
    host: { type: string, pattern: '^[a-z0-9.-]{1,60}$' }
    note: { type: string, pattern: '^/[A-Za-z0-9._/-]+$' }
    seconds: { type: string, pattern: '^[0-9]{1,3}$' }
runbook:
  inputs: { service: labels.service, host: labels.host, note: annotations.note, seconds: annotations.seconds }
${extra}`;
  // Writes when it started and ended into the note file's directory, sleeping in between.
  writeFileSync(join(dir, 'slow-restart.yaml'), entry('slow-restart', 'restart', ''));
  writeFileSync(
    join(dir, 'slow-restart.yml'),
    `- hosts: "{{ host }}"
  gather_facts: false
  tasks:
    - ansible.builtin.command: { argv: [sh, -c, 'echo "start $(date +%s%N)" >> "$0"; sleep "$1"; echo "end $(date +%s%N)" >> "$0"', "{{ note }}", "{{ seconds | default('1') }}"] }
`,
  );
  writeFileSync(join(dir, 'change-config.yaml'), entry('change-config', 'restart', '', 'rollback: { action: undo-config, inputs: { service: inputs.service, host: inputs.host, note: inputs.note } }\n'));
  writeFileSync(join(dir, 'change-config.yml'), `- hosts: "{{ host }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy: { dest: "{{ note }}", content: "changed\\n" }\n`);
  writeFileSync(join(dir, 'undo-config.yaml'), entry('undo-config', 'rollback', ''));
  // A change whose undo policy never allows: a destructive action on a vm.
  writeFileSync(join(dir, 'change-vm.yaml'), entry('change-vm', 'restart', '', 'rollback: { action: rebuild-vm, inputs: { service: inputs.service, host: inputs.host, note: inputs.note } }\n'));
  writeFileSync(join(dir, 'change-vm.yml'), `- hosts: "{{ host }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy: { dest: "{{ note }}", content: "changed\\n" }\n`);
  writeFileSync(join(dir, 'rebuild-vm.yaml'), entry('rebuild-vm', 'rollback', '', 'destructive: true\n').replace('targetType: service', 'targetType: vm'));
  writeFileSync(join(dir, 'rebuild-vm.yml'), `- hosts: "{{ host }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy: { dest: "{{ note }}", content: "rebuilt\\n" }\n`);
  writeFileSync(join(dir, 'undo-config.yml'), `- hosts: "{{ host }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy: { dest: "{{ note }}", content: "restored\\n" }\n`);
}

const settled = (r: IncidentRecord) => ['resolved', 'unverified', 'failed', 'denied', 'rejected', 'expired', 'diagnosed'].includes(r.state);

function alert(name: string, service: string, annotations: Record<string, string>, generatorURL?: string): TestAlert {
  return { labels: { alertname: name, agentic: 'true', mode: 'auto', severity: 'warning', service, host: 'localhost' }, annotations: { remediation: 'slow-restart', ...annotations }, generatorURL };
}

async function open(responder: TestResponder, a: TestAlert): Promise<string> {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([a]));
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

/** [start, end] in ns from the note file a slow-restart wrote. */
function window(note: string): [number, number] {
  const lines = readFileSync(note, 'utf8').trim().split('\n');
  return [Number(lines.find((l) => l.startsWith('start'))!.split(' ')[1]) / 1e6, Number(lines.find((l) => l.startsWith('end'))?.split(' ')[1] ?? NaN) / 1e6];
}

const sleepers = (seconds: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\u0000${seconds}\u0000`;
      } catch {
        return false;
      }
    });

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-exec-control-'));
  writeCatalog(scratch);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('one run at a time per target, a global limit, and an admin cancel', () => {
  let responder: TestResponder;
  beforeAll(async () => {
    responder = await startTestResponder({
      routes: [{ name: 'automatic', matchers: ['agentic="true"'], mode: 'auto' }],
      execution: { catalogDir: scratch, inventory: join(scratch, 'inventory.ini'), timeoutSeconds: 120, maxConcurrentRuns: 2 },
      auth: { tokens: [`alice:${APPROVER_TOKEN}`, `bob:${SECOND_APPROVER_TOKEN}`, `vera:${VIEWER_TOKEN}:viewer`, `root:${ADMIN_TOKEN}:admin`] },
    });
  });
  afterAll(async () => responder?.cleanup());

  it('a second incident on the same target waits, saying why; a third target runs beside the first; a fourth waits for a slot', async () => {
    const notes = ['a', 'b', 'c', 'd'].map((n) => join(scratch, `note-${n}.log`));
    const first = await open(responder, alert('FirstWedged', 'web', { note: notes[0]!, seconds: '8' }));
    await responder.waitFor(first, (r) => r.state === 'executing' || settled(r));
    const second = await open(responder, alert('SecondWedged', 'web', { note: notes[1]!, seconds: '1' }));
    const other = await open(responder, alert('OtherWedged', 'api', { note: notes[2]!, seconds: '8' }));
    await responder.waitFor(other, (r) => r.state === 'executing' || settled(r));
    const fourth = await open(responder, alert('FourthWedged', 'db-proxy', { note: notes[3]!, seconds: '1' }));

    const waitingSecond = await responder.waitFor(second, (r) => r.state === 'approved' && /waiting/.test(r.stateReason ?? ''));
    expect(waitingSecond.stateReason).toMatch(new RegExp(`^waiting for run ${first}:execute \\(incident ${first}\\) on the same target, host=localhost,service=web, to finish`));
    const waitingFourth = await responder.waitFor(fourth, (r) => r.state === 'approved' && /waiting/.test(r.stateReason ?? ''));
    expect(waitingFourth.stateReason).toMatch(/^waiting for a free slot: 2 remediations are running \(execution\.maxConcurrentRuns: 2\)/);
    expect(waitingSecond.runs.find((r) => r.kind === 'execute')?.state).toBe('claimed');

    const records = await Promise.all([first, second, other, fourth].map((id) => responder.waitFor(id, settled, 90_000)));
    expect(records.map((r) => r.state)).toEqual(['unverified', 'unverified', 'unverified', 'unverified']);
    const [a, b, c] = notes.map(window);
    expect(b![0], 'the second run on the target started only after the first ended').toBeGreaterThanOrEqual(a![1]);
    expect(c![0], 'another target ran beside the first').toBeLessThan(a![1]);
    // Each ran once.
    for (const record of records) expect(record.runs.filter((r) => r.kind === 'execute').map((r) => r.state)).toEqual(['succeeded']);
  }, 120_000);

  it('only an admin may cancel; the cancel kills the playbook and what it started, and the incident says who', async () => {
    const note = join(scratch, 'note-cancel.log');
    const id = await open(responder, alert('CancelMe', 'cancel-me', { note, seconds: '97' }));
    await responder.waitFor(id, (r) => r.state === 'executing' && r.runs.some((run) => run.kind === 'execute' && run.state === 'running'));
    await expect.poll(() => sleepers('97').length, { timeout: 20_000 }).toBeGreaterThan(0);
    const cancel = (token: string, body: unknown = { reason: 'wrong target' }) => responder.post(`/api/v1/incidents/${id}/cancel`, body, { authorization: `Bearer ${token}` });
    expect((await cancel(VIEWER_TOKEN)).status).toBe(403);
    expect((await cancel(APPROVER_TOKEN)).status).toBe(403);
    expect((await responder.post(`/api/v1/incidents/${id}/cancel`, { reason: 'x' })).status).toBe(401);
    expect((await cancel(ADMIN_TOKEN, { reason: '' })).status).toBe(400);
    expect((await cancel(ADMIN_TOKEN, { reason: 'x', extra: 'field' })).status).toBe(400);
    const accepted = await cancel(ADMIN_TOKEN);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ id, runId: `${id}:execute`, cancelRequestedBy: 'root' });
    const record = await responder.waitFor(id, settled, 30_000);
    expect(record.state).toBe('failed');
    expect(record.stateReason).toMatch(/^remediation cancelled by root/);
    expect(record.runs.find((r) => r.kind === 'execute')).toMatchObject({ state: 'cancelled', cancelledBy: 'root' });
    expect(record.audit.find((e) => e.kind === 'run.cancel-requested')).toMatchObject({ actor: 'root', data: { reason: 'wrong target' } });
    await expect.poll(() => sleepers('97'), { timeout: 15_000 }).toEqual([]);
    expect(window(note)[1]).toBeNaN();
    // Nothing left to cancel.
    const again = await cancel(ADMIN_TOKEN);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('nothing-running');
  }, 90_000);
});

describe('cancel from the incident page', () => {
  let responder: TestResponder;
  beforeAll(async () => {
    responder = await startTestResponder({
      routes: [{ name: 'automatic', matchers: ['agentic="true"'], mode: 'auto' }],
      execution: { catalogDir: scratch, inventory: join(scratch, 'inventory.ini'), timeoutSeconds: 120 },
      auth: { tokens: [`alice:${APPROVER_TOKEN}`, `vera:${VIEWER_TOKEN}:viewer`, `root:${ADMIN_TOKEN}:admin`] },
    });
  });
  afterAll(async () => responder?.cleanup());

  it('an admin sees a cancel form while the run is running, and it stops the run; an approver has no form and is refused', async () => {
    const id = await open(responder, alert('CancelFromPage', 'page-cancel', { note: join(scratch, 'note-page.log'), seconds: '89' }));
    await responder.waitFor(id, (r) => r.runs.some((run) => run.kind === 'execute' && run.state === 'running'));
    const page = (token: string) => fetch(`${responder.url}/incidents/${id}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
    expect(await page(ADMIN_TOKEN)).toContain('Cancel the execute of slow-restart (running)');
    expect(await page(APPROVER_TOKEN)).not.toContain('Cancel the execute');
    const post = (token: string, reason: string) =>
      fetch(`${responder.url}/incidents/${id}/cancel`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ reason }).toString() });
    expect((await post(APPROVER_TOKEN, 'stop')).status).toBe(403);
    expect((await post(ADMIN_TOKEN, '   ')).status).toBe(400);
    const done = await post(ADMIN_TOKEN, 'stop it from the page');
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/incidents/${id}?cancelled=1`);
    const record = await responder.waitFor(id, settled, 30_000);
    expect(record.state).toBe('failed');
    expect(record.runs.find((r) => r.kind === 'execute')).toMatchObject({ state: 'cancelled', cancelledBy: 'root' });
    await expect.poll(() => sleepers('89'), { timeout: 15_000 }).toEqual([]);
    expect(await page(ADMIN_TOKEN)).not.toContain('Cancel the execute');
  }, 90_000);
});

describe('Kestra and HTTP executors through the whole workflow, wired from config', () => {
  let responder: TestResponder;
  let kestra: FakeKestra;
  let endpoint: Server;
  const posted: unknown[] = [];
  beforeAll(async () => {
    kestra = await startFakeKestra({
      auth: { kind: 'bearer', token: 'kestra-token' },
      flows: { 'platform.remediation/restart-service': { states: ['RUNNING', 'SUCCESS'], outputs: (inputs) => ({ restarted: inputs.service ?? null }) } },
    });
    endpoint = createServer((request, response) => {
      void readBody(request).then((raw) => {
        posted.push({ authorization: request.headers['x-api-key'], body: JSON.parse(raw.toString('utf8')) });
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outcome: 'succeeded', output: 'blocked', outputs: { rule: 42 } }));
      });
    });
    const endpointUrl = await listenOnLoopback(endpoint);
    const remote = (id: string, settings: string) =>
      `id: ${id}\ntitle: ${id}\ntype: restart\nrisk: low\ntargetType: service\ntargetInput: service\ntargets: { service: service, host: host }\n${settings}\ninputs:\n  type: object\n  additionalProperties: false\n  required: [service, host]\n  properties:\n    service: { type: string, pattern: '^[a-z0-9-]{1,40}$' }\n    host: { type: string, pattern: '^[a-z0-9.-]{1,60}$' }\nrunbook:\n  inputs: { service: labels.service, host: labels.host }\n`;
    const catalogDir = join(scratch, 'remote-catalog');
    mkdirSync(catalogDir, { recursive: true });
    writeFileSync(join(catalogDir, 'inventory.ini'), 'localhost ansible_connection=local\n');
    writeFileSync(join(catalogDir, 'restart-in-kestra.yaml'), remote('restart-in-kestra', 'executor: kestra\nkestra: { flowId: restart-service, dryRunInput: dry_run }'));
    writeFileSync(join(catalogDir, 'block-over-http.yaml'), remote('block-over-http', 'executor: http\nhttp: { endpoint: firewall }'));
    responder = await startTestResponder({
      routes: [{ name: 'automatic', matchers: ['agentic="true"'], mode: 'auto' }],
      execution: {
        catalogDir,
        inventory: join(catalogDir, 'inventory.ini'),
        timeoutSeconds: 30,
        kestra: { url: kestra.url, token: 'kestra-token', pollIntervalMs: 50 },
        http: { endpoints: [{ name: 'firewall', url: `${endpointUrl}/act`, token: 'fw-key', header: 'X-Api-Key', scheme: '' }] },
      },
    });
  });
  afterAll(async () => {
    await responder?.cleanup();
    await kestra?.stop();
    if (endpoint) await closeServer(endpoint);
  });

  it('a Kestra flow: dry run with its dry-run input, then the run, the outputs kept on the run', async () => {
    const id = await open(responder, alert('KestraWedged', 'shop', { remediation: 'restart-in-kestra' }));
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.runs.map((r) => [r.kind, r.state])).toEqual([['dry-run', 'succeeded'], ['execute', 'succeeded']]);
    expect(record.runs[1]!.outputs).toEqual({ restarted: 'shop' });
    expect(record.runs[1]!.output).toMatch(/of platform\.remediation\.restart-service: SUCCESS/);
    expect(kestra.executions.map((e) => e.inputs)).toEqual([
      { service: 'shop', host: 'localhost', dry_run: 'true' },
      { service: 'shop', host: 'localhost' },
    ]);
  });

  it('an HTTP endpoint: the dry run is skipped and says so, the run is a JSON POST with the key header', async () => {
    const id = await open(responder, alert('HttpWedged', 'edge', { remediation: 'block-over-http' }));
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.dryRun).toMatchObject({ ok: false, skipped: true, outcome: 'skipped' });
    expect(record.dryRun!.output).toMatch(/does not support a dry run/);
    expect(record.decision?.input.incident.dry_run).toEqual({ ok: false, skipped: true });
    expect(record.runs.find((r) => r.kind === 'execute')).toMatchObject({ state: 'succeeded', outputs: { rule: 42 } });
    expect(posted).toEqual([{ authorization: 'fw-key', body: { action: 'block-over-http', runId: `${id}:execute`, dryRun: false, inputs: { service: 'edge', host: 'localhost' } } }]);
  });
});

describe('rollback', () => {
  let responder: TestResponder;
  let prometheus: RunningServer;
  beforeAll(async () => {
    prometheus = await startPrometheus({ scrapeTargets: [], rules: 'groups: []\n' });
    responder = await startTestResponder({
      routes: [{ name: 'automatic', matchers: ['agentic="true"'], mode: 'auto' }],
      execution: { catalogDir: scratch, inventory: join(scratch, 'inventory.ini'), timeoutSeconds: 60 },
      prometheus: { url: prometheus.url },
      // vector(1) from the alert: the condition never clears, so verification fails and the rollback is proposed.
      intake: { key: 'test-intake-key', trustAlertExpressions: true },
      verification: { timeoutSeconds: 3, intervalSeconds: 1 },
    });
  }, 120_000);
  afterAll(async () => {
    await responder?.cleanup();
    await prometheus?.stop();
  });

  it('a remediation that did not clear the condition gets its rollback proposed for approval, even on an auto route, never run on its own', async () => {
    const note = join(scratch, 'config.txt');
    const id = await open(responder, {
      ...alert('ConfigBroken', 'shop', { note, remediation: 'change-config' }),
      generatorURL: `http://prometheus/graph?g0.expr=${encodeURIComponent('vector(1)')}`,
    });
    const waiting = await responder.waitFor(id, (r) => r.state === 'awaiting_approval' || settled(r), 60_000);
    expect(waiting.state, waiting.stateReason ?? '').toBe('awaiting_approval');
    expect(readFileSync(note, 'utf8')).toBe('changed\n');
    expect(waiting.verification).toMatchObject({ outcome: 'still_firing' });
    expect(waiting.proposal?.action).toEqual({ id: 'undo-config', inputs: { service: 'shop', host: 'localhost', note } });
    expect(waiting.stateReason).toMatch(/to roll back with undo-config/);
    expect(waiting.approvalRequests.map((r) => [r.round, r.actionId, r.state])).toEqual([[2, 'undo-config', 'open']]);
    expect(waiting.runs.map((r) => [r.kind, r.actionId, r.state])).toEqual([
      ['dry-run', 'change-config', 'succeeded'],
      ['execute', 'change-config', 'succeeded'],
      ['dry-run', 'undo-config', 'succeeded'],
    ]);
    // Left alone, nothing runs.
    await new Promise((r) => setTimeout(r, 2000));
    expect(existsSync(note) && readFileSync(note, 'utf8')).toBe('changed\n');

    // A decision must name the rollback's request: an approval meant for the first proposal never approves its undo.
    const unnamed = await responder.approve(id, { approved: true, reason: 'undo it' });
    expect(unnamed.status).toBe(409);
    expect(((await unnamed.json()) as { code: string }).code).toBe('stale-request');
    expect((await responder.approve(id, { approved: true, reason: 'undo it', requestId: waiting.approvalRequests[0]!.id })).status).toBe(202);
    const record = await responder.waitFor(id, settled, 60_000);
    expect(record.state).toBe('failed');
    expect(record.stateReason).toBe('the remediation did not clear the condition; rolled back with undo-config');
    expect(readFileSync(note, 'utf8')).toBe('restored\n');
    expect(record.runs.map((r) => [r.kind, r.actionId, r.state])).toEqual([
      ['dry-run', 'change-config', 'succeeded'],
      ['execute', 'change-config', 'succeeded'],
      ['dry-run', 'undo-config', 'succeeded'],
      ['rollback', 'undo-config', 'succeeded'],
    ]);
    const transitions = record.audit.filter((e) => e.kind === 'incident.state').map((e) => (e.data as { to: string }).to);
    expect(transitions).toEqual(['investigating', 'proposed', 'approved', 'executing', 'verifying', 'proposed', 'awaiting_approval', 'approved', 'executing', 'failed']);
  }, 120_000);

  it('a rollback policy denies is never put to people: the incident fails, saying why', async () => {
    const note = join(scratch, 'vm.txt');
    const id = await open(responder, {
      ...alert('VmBroken', 'vm-app', { note, remediation: 'change-vm' }),
      generatorURL: `http://prometheus/graph?g0.expr=${encodeURIComponent('vector(1)')}`,
    });
    const record = await responder.waitFor(id, settled, 60_000);
    expect(record.state).toBe('failed');
    expect(record.stateReason).toMatch(/^the remediation did not clear the condition, and policy denied its rollback: destructive action rollback on vm vm-app is not allowed/);
    expect(record.approvalRequests).toEqual([]);
    expect(record.runs.map((r) => [r.kind, r.actionId])).toEqual([
      ['dry-run', 'change-vm'],
      ['execute', 'change-vm'],
      ['dry-run', 'rebuild-vm'],
    ]);
    expect(readFileSync(note, 'utf8')).toBe('changed\n');
  }, 90_000);

  it('a rejected rollback leaves the change in place and fails the incident, saying so', async () => {
    const note = join(scratch, 'config-2.txt');
    const id = await open(responder, {
      ...alert('ConfigBrokenAgain', 'shop-2', { note, remediation: 'change-config' }),
      generatorURL: `http://prometheus/graph?g0.expr=${encodeURIComponent('vector(1)')}`,
    });
    const waiting = await responder.waitFor(id, (r) => r.state === 'awaiting_approval' || settled(r), 60_000);
    expect((await responder.approve(id, { approved: false, reason: 'keep it, I will look', requestId: waiting.approvalRequests[0]!.id })).status).toBe(202);
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('failed');
    expect(record.stateReason).toBe('the remediation did not clear the condition; its rollback was rejected: keep it, I will look');
    expect(readFileSync(note, 'utf8')).toBe('changed\n');
    expect(record.runs.some((r) => r.kind === 'rollback')).toBe(false);
  }, 90_000);
});
