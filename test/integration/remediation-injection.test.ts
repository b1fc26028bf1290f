import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { scriptFromTurns, startScriptedLlmServer, type ScriptedLlmServer, type ScriptedTurn } from '../../src/testing/scripted-llm-server.js';
import { alertmanagerPayload, type TestAlert } from '../support/alert-payloads.js';
import { REPO, startTestResponder, type TestResponder } from '../support/responder-harness.js';

// Hostile inputs reach the catalog check three ways: the model proposes them, a runbook maps them from
// alert labels, an approver types them as modifications. Each is refused there, before any process
// starts: ansible-playbook is a stand-in that writes down every call and the inputs it was given.

const CATALOG = join(REPO, 'remediations');
const TEN_KB = 'a'.repeat(10 * 1024);

let scratch: string;
let calls: string;
let llm: ScriptedLlmServer;
let responder: TestResponder;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-injection-'));
  calls = join(scratch, 'ansible-playbook-calls.log');
  const standIn = join(scratch, 'ansible-playbook');
  // Writes down its arguments and the extra-vars file it was handed, then answers as a run on one host.
  writeFileSync(
    standIn,
    `#!/bin/sh
for argument; do case "$argument" in @*) vars=\${argument#@} ;; esac; done
{ printf 'CALL %s\\n' "$*"; cat "$vars"; printf '\\n'; } >> "${calls}"
printf 'PLAY [stand-in]\\n\\nTASK [recorded]\\nok: [localhost]\\n\\nPLAY RECAP\\nlocalhost : ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\\n'
`,
  );
  chmodSync(standIn, 0o755);
  llm = await startScriptedLlmServer();
  responder = await startTestResponder({
    agent: { provider: 'anthropic', apiKey: 'scripted-key', baseUrl: llm.anthropicBaseUrl, model: 'scripted-claude', retries: 0, maxSteps: 3 },
    execution: { catalogDir: CATALOG, inventory: join(CATALOG, 'inventory.ini'), ansiblePlaybookBinary: standIn, timeoutSeconds: 60 },
    routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
  });
}, 180_000);

afterAll(async () => {
  await responder?.cleanup();
  await llm?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every ansible-playbook start so far, with the inputs it carried. */
const recorded = (): string => (existsSync(calls) ? readFileSync(calls, 'utf8') : '');
const starts = (): number => recorded().split('\n').filter((line) => line.startsWith('CALL ')).length;

async function open(alert: TestAlert): Promise<string> {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

function alert(labels: Record<string, string> = {}, annotations: Record<string, string> = {}): TestAlert {
  return {
    labels: { alertname: 'Injected', agentic: 'true', severity: 'warning', host: 'localhost', fp: String(Math.random()), ...labels },
    annotations: { summary: 'something is wrong', ...annotations },
  };
}

function propose(id: string, inputs: Record<string, unknown>): ScriptedTurn {
  return {
    kind: 'tool-calls',
    calls: [{ name: 'submit_proposal', input: { diagnosis: 'it broke', evidence: [{ source: 'The alert', summary: 'it fired' }], action: { id, inputs }, risk: 'medium', confidence: 0.9 } }],
  };
}

const settled = (r: IncidentRecord) => ['resolved', 'unverified', 'failed', 'denied', 'rejected', 'expired', 'diagnosed'].includes(r.state);
const awaiting = (r: IncidentRecord) => r.state === 'awaiting_approval' || settled(r);

const valid: Record<string, Record<string, unknown>> = {
  'restart-service': { service: 'cron', host: 'localhost' },
  'rollback-config': { host: 'localhost', config_path: '/etc/caddy/Caddyfile', service: 'caddy' },
  'clear-disk-space': { host: 'localhost', paths: ['/var/log/app'], min_age_days: 7 },
  'block-host': { ip: '10.0.4.15', reason: 'Suspected compromised IoT device', duration: '24h' },
  'scale-deployment': { namespace: 'media', deployment: 'jellyfin', replicas: 3 },
};

// [what, action, input, hostile value, what the refusal says]
const HOSTILE: [string, string, string, unknown, RegExp][] = [
  ['service "x; rm -rf /"', 'restart-service', 'service', 'x; rm -rf /', /service: must be a systemd unit name like nginx or nginx\.service/],
  ['host "all"', 'restart-service', 'host', 'all', /host: must name exactly one inventory host/],
  ['config_path "/etc/../root/x"', 'rollback-config', 'config_path', '/etc/../root/x', /config_path: must not contain a '\.\.' or '\.' segment or '\/\/' \(no path traversal\)/],
  ['paths ["/etc/../root/x"]', 'clear-disk-space', 'paths', ['/etc/../root/x'], /paths\[0\]: must not contain a '\.\.' or '\.' segment/],
  ['ip "0.0.0.0/0"', 'block-host', 'ip', '0.0.0.0/0', /ip: must be one IPv4 or IPv6 address/],
  ['replicas 10000', 'scale-deployment', 'replicas', 10000, /replicas: must be at most 20/],
  ['a 10 kB reason', 'block-host', 'reason', TEN_KB, /reason: must be at most 128 characters long/],
];

/** A hostile value must appear in no ansible-playbook start (JSON-escaped as the extra-vars file holds it). */
function neverHandedToAnsible(value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  expect(recorded()).not.toContain(text.length > 64 ? text.slice(0, 64) : text);
}

describe('a model proposal', () => {
  it.each(HOSTILE)('%s is refused and the model is told why; nothing starts', async (_what, id, input, value, why) => {
    const before = starts();
    llm.setScript(() => propose(id, { ...valid[id], [input]: value }));
    const incident = await open(alert());
    const record = await responder.waitFor(incident, settled);
    expect(record.state).toBe('diagnosed');
    expect(record.runs).toEqual([]);
    const refusals = record.investigation!.transcript.filter((e) => e.kind === 'validation-failed');
    expect(JSON.stringify(refusals)).toMatch(why);
    expect(starts()).toBe(before);
    neverHandedToAnsible(value);
  });
});

describe('a runbook mapping from alert labels', () => {
  // Runbooks map labels and annotations (strings) to inputs; the model is down, so the runbook answers.
  const RUNBOOK: [string, string, Record<string, string>, Record<string, string>, RegExp][] = [
    ['label service "x; rm -rf /"', 'restart-service', { service: 'x; rm -rf /' }, {}, /service: must be a systemd unit name like nginx or nginx\.service/],
    ['label host "all"', 'restart-service', { service: 'cron', host: 'all' }, {}, /host: must name exactly one inventory host/],
    ['annotation config_path "/etc/../root/x"', 'rollback-config', { service: 'caddy' }, { config_path: '/etc/../root/x' }, /config_path: must not contain a '\.\.' or '\.' segment or '\/\/' \(no path traversal\)/],
    ['label source_ip "0.0.0.0/0"', 'block-host', { source_ip: '0.0.0.0/0' }, {}, /ip: must be one IPv4 or IPv6 address/],
    ['a 10 kB service label', 'restart-service', { service: TEN_KB }, {}, /service: must be at most 128 characters long/],
  ];
  it.each(RUNBOOK)('%s is refused; nothing starts', async (_what, id, labels, annotations, why) => {
    const before = starts();
    llm.setScript(() => ({ kind: 'error', status: 500, message: 'provider down' }));
    const incident = await open(alert(labels, { remediation: id, ...annotations }));
    const record = await responder.waitFor(incident, settled);
    expect(record.state).toBe('diagnosed');
    expect(record.runs).toEqual([]);
    expect((record.proposal as { diagnosis: string }).diagnosis).toMatch(new RegExp(`cannot be filled from this alert: .*${why.source}`));
    expect(starts()).toBe(before);
    for (const value of [...Object.values(labels), ...Object.values(annotations)].filter((v) => v !== 'caddy' && v !== 'cron')) neverHandedToAnsible(value);
  });
});

describe("an approver's modifications", () => {
  it.each(HOSTILE)('%s as a modification is refused with 400; only the original dry-run ever started', async (_what, id, input, value, why) => {
    llm.setScript(scriptFromTurns([propose(id, valid[id]!)]));
    const before = starts();
    const incident = await open(alert());
    const proposed = await responder.waitFor(incident, awaiting);
    expect(proposed.state, proposed.stateReason ?? '').toBe('awaiting_approval');
    expect(starts()).toBe(before + 1);

    const answer = await responder.approve(incident, { approved: true, reason: 'with my change', modifications: { [input]: value } });
    expect(answer.status).toBe(400);
    const problem = (await answer.json()) as { title: string; errors?: { message: string }[] };
    expect(problem.title).toBe('Modified inputs do not fit the action');
    expect(JSON.stringify(problem.errors)).toMatch(why);

    const after = await responder.record(incident);
    expect(after.state).toBe('awaiting_approval');
    expect(after.runs.map((r) => r.kind)).toEqual(['dry-run']);
    expect(starts()).toBe(before + 1);
    neverHandedToAnsible(value);
    await responder.approve(incident, { approved: false, reason: 'done testing' });
  });
});
