import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { freePort } from '../../src/eval/free-port.js';
import { claimReplicaId } from '../../src/workflow/replicas.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { APPROVER_TOKEN, DEMO_CATALOG, REPO, makeDataDir } from '../support/responder-harness.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { startTestDatabase, type TestDatabase } from '../support/test-database.js';

// Two `responder serve` processes on one real PostgreSQL, as replicas run in production.
describe('replicas sharing one database', () => {
  let db: TestDatabase;
  let scratch: string;
  let service: PidfileService;
  const started: ServiceProcess[] = [];
  const dataDirs: string[] = [];

  beforeAll(async () => {
    db = await startTestDatabase('replicas');
    scratch = mkdtempSync(join(tmpdir(), 'responder-replicas-'));
    service = startPidfileService(scratch);
  }, 120_000);
  afterAll(async () => {
    for (const replica of started) await replica.stop().catch(() => {});
    service?.stop();
    await db?.stop();
    for (const dir of [scratch, ...dataDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startReplica(id: string, keyFile: string): Promise<ServiceProcess> {
    const dataDir = makeDataDir();
    dataDirs.push(dataDir);
    const port = await freePort();
    const replica = await startServiceProcess({
      dataDir,
      port,
      config: {
        dataDir,
        server: { port },
        database: { url: db.url },
        // Every replica seals the one audit chain: they share the key.
        audit: { keyFile },
        replica: { id, heartbeatSeconds: 1, deadAfterSeconds: 3 },
        intake: { key: 'replica-key' },
        auth: { tokens: [`alice:${APPROVER_TOKEN}`] },
        routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
        execution: { catalogDir: DEMO_CATALOG, inventory: join(DEMO_CATALOG, 'inventory.ini'), timeoutSeconds: 60 },
        policy: { policyDir: join(REPO, 'policies'), retrySeconds: 1 },
        log: { level: 'info' },
      },
    });
    started.push(replica);
    return replica;
  }

  const record = async (replica: ServiceProcess, id: string) =>
    (await (await fetch(`${replica.url}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } })).json()) as IncidentRecord;
  async function waitFor(replica: ServiceProcess, id: string, predicate: (r: IncidentRecord) => boolean, timeoutMs = 60_000): Promise<IncidentRecord> {
    const deadline = Date.now() + timeoutMs;
    let last: IncidentRecord | undefined;
    while (Date.now() < deadline) {
      last = await record(replica, id);
      if (predicate(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out; last state ${last?.state} (${last?.stateReason})`);
  }

  it('when a replica is gone, another goes on with the incident it was waiting on, and the fix runs once', async () => {
    const keyFile = join(scratch, 'audit.key');
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const counter = join(scratch, 'restarts');
    const start = join(scratch, 'start.sh');
    writeFileSync(start, `#!/bin/sh\necho run >> "${counter}"\nexec "${service.command}"\n`, { mode: 0o755 });

    const first = await startReplica('replica-a', keyFile);
    const payload = alertmanagerPayload([
      { labels: { alertname: 'ReplicaTest', agentic: 'true', service: 'demo-service', host: 'localhost', severity: 'warning' }, annotations: { remediation: 'restart-process', pidfile: service.pidfile, start_command: start } },
    ]);
    const sent = await fetch(`${first.url}/hooks/alertmanager/replica-key`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(sent.status).toBe(202);
    const id = ((await sent.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    await waitFor(first, id, (r) => r.state === 'awaiting_approval');
    await first.kill9();

    const second = await startReplica('replica-b', keyFile);
    // Only the workflow, resumed on this replica, turns an approval into a run.
    const decided = await fetch(`${second.url}/api/v1/incidents/${id}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${APPROVER_TOKEN}` },
      body: JSON.stringify({ approved: true, reason: 'replica test' }),
    });
    expect(decided.status).toBeLessThan(300);
    const final = await waitFor(second, id, (r) => ['unverified', 'resolved', 'failed'].includes(r.state));
    expect(final.state, final.stateReason ?? '').toBe('unverified');
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(service.pidfile)).toBe(true);
    const log = readFileSync(join(dataDirs[1]!, 'service.log'), 'utf8');
    expect(log).toMatch(/"replica":"replica-a".*a replica is gone; its incidents go on here or on another live replica/);
  }, 120_000);

  it('refuses a second process under a live replica id from another host, naming who holds it', async () => {
    const settings = { id: 'replica-b', heartbeatSeconds: 1, deadAfterSeconds: 3 };
    await expect(claimReplicaId(db.pool, settings, { host: 'another-host.example', pid: 4242 })).rejects.toThrow(
      new RegExp(`replica id "replica-b" is in use by ${hostname().replaceAll('.', '\\.')} \\(pid \\d+, heard from \\d+ s ago\\): give each Responder on this database its own replica.id`),
    );
    // The same host takes its own id back at once (a restart of that replica).
    await expect(claimReplicaId(db.pool, { ...settings, id: 'replica-c' }, { host: 'h1', pid: 1 })).resolves.toBeUndefined();
    await expect(claimReplicaId(db.pool, { ...settings, id: 'replica-c' }, { host: 'h1', pid: 2 })).resolves.toBeUndefined();
  });
});
