import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readAnchorFile } from '../../src/audit/anchors.js';
import type { ConfigInput } from '../../src/config/config.schema.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { startFakeLoki, type FakeLoki } from '../../src/testing/fake-loki.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { makeDataDir, REPO, startTestResponder, type TestResponder } from '../support/responder-harness.js';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));
const dataDir = makeDataDir();
let loki: FakeLoki;
let responder: TestResponder | null = null;
let incidentId: string;

function overrides(): Partial<ConfigInput> {
  return {
    routes: [{ name: 'look', matchers: ['look="only"'], mode: 'diagnose-only' }],
    loki: { url: loki.url, timeoutMs: 1000 },
    // A long interval, so the anchor seen at the final state can only be the one the final state wrote.
    audit: { anchorIntervalSeconds: 3600, loki: { maxBackoffSeconds: 0.2 } },
  };
}

async function lag(): Promise<{ events: number; seconds: number }> {
  const text = await (await responder!.get('/metrics')).text();
  const read = (name: string) => Number(new RegExp(`^${name}\\{destination="loki"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { events: read('responder_audit_shipping_lag_events'), seconds: read('responder_audit_shipping_lag_seconds') };
}

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

async function chainHead(): Promise<{ head: number; diagnosedSeq: number }> {
  const client = new pg.Client({ connectionString: responder!.databaseUrl });
  await client.connect();
  try {
    const head = (await client.query<{ head: number }>('SELECT max(seq)::int AS head FROM audit_events')).rows[0]!.head;
    const diagnosed = await client.query<{ seq: number | null }>(`SELECT seq::int FROM audit_events WHERE incident_id = $1 AND kind = 'incident.state' AND data->>'to' = 'diagnosed'`, [incidentId]);
    return { head, diagnosedSeq: diagnosed.rows[0]?.seq ?? 0 };
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  loki = await startFakeLoki();
});

afterAll(async () => {
  await responder?.stop();
  await loki?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('shipping the audit trail to Loki', () => {
  it('loses nothing while Loki is down, across a restart, and catches up when it is back', async () => {
    loki.setOutage(503);
    responder = await startTestResponder(overrides(), dataDir);
    const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: 'DiskFull', look: 'only', instance: 'db1:9100' } }]));
    incidentId = ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    await responder.waitFor(incidentId, (r) => r.state === 'diagnosed');

    // The final state is anchored in the local file at once, whatever the interval.
    const { diagnosedSeq } = await until('the diagnosed event to be sealed', chainHead, (h) => h.diagnosedSeq > 0);
    await until('an anchor of the final state', async () => readAnchorFile(join(dataDir, 'audit-anchors.jsonl')).anchors.map((a) => a.seq), (seqs) => seqs.includes(diagnosedSeq), 5000);

    const waiting = await until('the lag to show every event', lag, (l) => l.events >= diagnosedSeq);
    expect(waiting.seconds).toBeGreaterThan(0);
    expect(loki.entries()).toEqual([]);

    await responder.stop();
    responder = await startTestResponder(overrides(), dataDir);
    const { head } = await chainHead();
    expect((await lag()).events).toBe(head);

    loki.setOutage(null);
    await until('Loki to catch up', lag, (l) => l.events === 0);
    expect((await lag()).seconds).toBe(0);

    const entries = loki.entries();
    const events = entries.filter((e) => !['incident.summary', 'audit.anchor'].includes(e.stream.kind!));
    const shipped = events.map((e) => Number(e.metadata.seq)).sort((a, b) => a - b);
    expect(shipped).toEqual(Array.from({ length: shipped.length }, (_, i) => i + 1));
    expect(shipped.at(-1)).toBeGreaterThanOrEqual(head);
    for (const event of events) {
      expect(event.stream.service_name).toBe('responder');
      expect(event.stream.kind).toBe((JSON.parse(event.line) as { kind: string }).kind);
    }
    expect(events.filter((e) => e.metadata.incident_id === incidentId).map((e) => e.stream.kind)).toEqual(expect.arrayContaining(['incident.opened', 'incident.state']));

    const summaries = entries.filter((e) => e.stream.kind === 'incident.summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.metadata).toEqual({ incident_id: incidentId, seq: String(diagnosedSeq) });
    expect(JSON.parse(summaries[0]!.line)).toMatchObject({
      record: 'INCIDENT_AUDIT',
      incident_id: incidentId,
      alert: 'DiskFull',
      instance: 'db1:9100',
      state: 'diagnosed',
      diagnosis: expect.any(String),
      approved: null,
      remediation_status: 'not run',
    });
    const anchors = entries.filter((e) => e.stream.kind === 'audit.anchor').map((e) => JSON.parse(e.line) as { seq: number });
    expect(Math.max(...anchors.map((a) => a.seq))).toBe(shipped.at(-1));
  });

  it('the anchor in Loki shows a cut-off tail after someone removed it from the database and the local anchor file', async () => {
    await responder!.stop();
    const embeddedPort = Number(new URL(responder!.databaseUrl).port);
    responder = null;
    rmSync(join(dataDir, 'audit-anchors.jsonl'));
    const database = await startEmbeddedDatabase({ dataDir, port: embeddedPort });
    let head: number;
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      head = (await client.query<{ head: number }>('SELECT max(seq)::int AS head FROM audit_events')).rows[0]!.head;
      await client.query('SET session_replication_role = replica');
      await client.query('DELETE FROM audit_events WHERE seq > $1', [head - 2]);
      await client.end();
    } finally {
      await database.stop();
    }
    const configFile = join(dataDir, 'responder.yaml');
    writeFileSync(configFile, stringify({ dataDir, database: { embeddedPort }, intake: { key: 'k' }, loki: { url: loki.url } }));
    // Not spawnSync: the fake Loki answering the CLI runs in this process.
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(REPO, 'dist/src/cli/main.js'), 'audit', 'verify', '--config', configFile], { encoding: 'utf8', timeout: 120_000, env: cleanEnv }, (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`BROKEN at event ${head - 1}: the chain ends at event ${head - 2}, but the anchor of \\S+ in Loki \\(${loki.url}\\) records event ${head}: the newest 2 event\\(s\\) were deleted`),
    );
  });
});
