import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GENESIS_HASH, plainAuditHash } from '../../src/audit/audit-hash.js';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import { createPool, type Pool } from '../../src/database/database.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { makeDataDir, REPO, startTestResponder } from '../support/responder-harness.js';

const dataDir = makeDataDir();
const keyFile = join(dataDir, 'audit.key');
let configFile: string;
let embeddedPort: number;
let service: PidfileService;
let rejectedIncident: string;
let otherIncidents: string[];

// The CLI reads RESPONDER_* and DATABASE_URL; one set in the shell running the tests (a CI's
// DATABASE_URL, say) would point it at another database.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8', timeout: 120_000, env: { ...cleanEnv, ...env } });
}

async function post(responder: Awaited<ReturnType<typeof startTestResponder>>, labels: Record<string, string>, annotations: Record<string, string> = {}): Promise<string> {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels, annotations }]));
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

beforeAll(async () => {
  service = startPidfileService(dataDir);
  const responder = await startTestResponder(
    { routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }], audit: { anchorIntervalSeconds: 3600 } },
    dataDir,
  );
  embeddedPort = Number(new URL(responder.databaseUrl).port);
  try {
    rejectedIncident = await post(
      responder,
      { alertname: 'ServiceWedged', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost' },
      { summary: 'demo-service is wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command },
    );
    await responder.waitFor(rejectedIncident, (r) => r.state === 'awaiting_approval');
    // Opened while the first waits, so their events sit between its events on the chain.
    otherIncidents = [await post(responder, { alertname: 'AuditOne' }), await post(responder, { alertname: 'AuditTwo' })];
    expect((await responder.approve(rejectedIncident, { approved: false, reason: 'not during the release' })).status).toBe(202);
    await responder.waitFor(rejectedIncident, (r) => r.state === 'rejected');
  } finally {
    await responder.stop();
  }
  configFile = join(dataDir, 'responder.yaml');
  writeFileSync(configFile, stringify({ dataDir, database: { embeddedPort }, intake: { key: 'k' } }));
});

afterAll(() => {
  service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * The database as an attacker with the superuser password has it, running for the whole block: the CLI
 * attaches to it as it would to a running service's. Each attack starts from the chain as the service left it.
 */
describe('with the database superuser password', () => {
  let database: EmbeddedDatabase;
  let pool: Pool;
  let client: pg.PoolClient;
  let head: number;

  beforeAll(async () => {
    database = await startEmbeddedDatabase({ dataDir, port: embeddedPort });
    // createPool: timestamps come back as the ISO strings the service hashed.
    pool = createPool(database.url, 1);
    client = await pool.connect();
    await client.query('CREATE TABLE pristine_audit AS SELECT * FROM audit_events');
    await client.query('CREATE TABLE pristine_approvals AS SELECT * FROM approvals');
    head = (await client.query<{ head: number }>('SELECT max(seq)::int AS head FROM audit_events')).rows[0]!.head;
  });

  afterAll(async () => {
    client?.release();
    await pool?.end();
    await database?.stop();
  });

  async function restore(): Promise<void> {
    await client.query('SET session_replication_role = replica');
    await client.query('DELETE FROM audit_events');
    await client.query('INSERT INTO audit_events SELECT * FROM pristine_audit');
    await client.query('DELETE FROM approvals');
    await client.query('INSERT INTO approvals SELECT * FROM pristine_approvals');
    await client.query('SET session_replication_role = origin');
  }

  /** Restores the chain, then runs the attack with the append-only trigger bypassed, as a superuser can. */
  async function attack(work: () => Promise<void>): Promise<void> {
    await restore();
    await client.query('SET session_replication_role = replica');
    try {
      await work();
    } finally {
      await client.query('SET session_replication_role = origin');
    }
  }

  async function seqOf(kind: string, actor?: string): Promise<number> {
    const found = await client.query<{ seq: number }>('SELECT seq::int FROM audit_events WHERE kind = $1 AND ($2::text IS NULL OR actor = $2) ORDER BY seq LIMIT 1', [kind, actor ?? null]);
    return found.rows[0]!.seq;
  }

  /** Re-computes every hash from `from` on with the plain function, the only one an attacker without the key can compute. */
  async function rehashPlain(from: number): Promise<void> {
    const rows = await client.query<{ id: number; seq: number; incident_id: string | null; at: string; actor: string; kind: string; data: Record<string, never>; prev_hash: string }>(
      'SELECT id, seq::int, incident_id, at, actor, kind, data, prev_hash FROM audit_events WHERE seq >= $1 - 1 ORDER BY seq',
      [from],
    );
    let prevHash = from === 1 ? GENESIS_HASH : (await client.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = $1', [from - 1])).rows[0]!.hash;
    for (const row of rows.rows.filter((r) => r.seq >= from)) {
      const hash = plainAuditHash({ id: row.id, seq: row.seq, incidentId: row.incident_id, at: row.at, actor: row.actor, kind: row.kind, data: row.data, prevHash });
      await client.query('UPDATE audit_events SET prev_hash = $2, hash = $3, key_id = NULL WHERE id = $1', [row.id, prevHash, hash]);
      prevHash = hash;
    }
  }

  /** Verify must fail; `chain: 'intact'` when only the tables were touched behind it. */
  function verifyBroken(options: { chain?: 'broken' | 'intact' } = {}): { stdout: string; stderr: string } {
    const result = cli(['audit', 'verify', '--config', configFile]);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    if (options.chain === 'intact') expect(result.stdout).toMatch(/^audit chain OK/m);
    else expect(result.stdout).not.toMatch(/audit chain OK/);
    return result;
  }

  describe('responder audit verify', () => {
    it('walks an intact chain with its keys and anchors and the tables it mirrors, says so and exits 0', async () => {
      await restore();
      const result = cli(['audit', 'verify', '--config', configFile]);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^audit chain OK: ${head} events, head [0-9a-f]{64}$`, 'm'));
      expect(result.stdout).toContain(`${head} sealed with the key`);
      expect(result.stdout).toMatch(new RegExp(`anchors: \\d+ matched; newest: event ${head} at .* in ${dataDir}/audit-anchors.jsonl`));
      expect(result.stdout).toMatch(/approvals, approval requests, runs and incident results match their events/);
      expect(result.stderr).toBe('');
    });

    it('is backed by a database that refuses to change or delete an audit event', async () => {
      await restore();
      await expect(client.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(client.query(`UPDATE audit_events SET seq = 99 WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM audit_events WHERE seq = 2')).rejects.toThrow(/append-only/);
    });

    it('catches an edited event even when every later hash was re-computed: alice made bob', async () => {
      const seq = await seqOf('approval.rejected', 'alice');
      await attack(async () => {
        await client.query(`UPDATE audit_events SET actor = 'bob' WHERE seq = $1`, [seq]);
        await rehashPlain(seq);
      });
      expect(verifyBroken().stderr).toMatch(
        new RegExp(`^audit chain BROKEN at event ${seq}: event ${seq} was altered after it was sealed: its hash does not match what it says \\(it is sealed with a plain SHA-256, which anyone can compute, after events sealed with the key\\)`, 'm'),
      );

      await attack(async () => {
        await client.query(`UPDATE audit_events SET data = jsonb_set(data, '{reason}', '"fine by me"') WHERE seq = $1`, [seq]);
      });
      expect(verifyBroken().stderr).toMatch(new RegExp(`BROKEN at event ${seq}: event ${seq} was altered after it was sealed: its HMAC does not match what it says`));
    });

    it('catches a deleted event', async () => {
      const seq = await seqOf('approval.requested');
      await attack(async () => {
        await client.query('DELETE FROM audit_events WHERE seq = $1', [seq]);
      });
      expect(verifyBroken().stderr).toMatch(new RegExp(`BROKEN at event ${seq}: event ${seq} is missing: the chain goes from event ${seq - 1} to event ${seq + 1} \\(deleted\\)`));
    });

    it('catches an inserted event, the later ones moved up to make room', async () => {
      const seq = await seqOf('approval.rejected', 'alice');
      await attack(async () => {
        await client.query('UPDATE audit_events SET seq = seq + 1000000 WHERE seq >= $1', [seq]);
        await client.query('UPDATE audit_events SET seq = seq - 1000000 + 1 WHERE seq >= 1000000');
        const before = (await client.query<{ hash: string; key_id: string; incident_id: string }>('SELECT hash, key_id, incident_id FROM audit_events WHERE seq = $1', [seq - 1])).rows[0]!;
        const fake = { id: 999_999, seq, incidentId: rejectedIncident, at: new Date().toISOString(), actor: 'bob', kind: 'approval.granted', data: { reason: 'ship it' }, prevHash: before.hash };
        // The key id is in plain sight on every row; the key is not.
        await client.query('INSERT INTO audit_events (id, seq, incident_id, at, actor, kind, data, prev_hash, hash, key_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)', [
          fake.id, seq, fake.incidentId, fake.at, fake.actor, fake.kind, JSON.stringify(fake.data), fake.prevHash, plainAuditHash(fake), before.key_id,
        ]);
      });
      expect(verifyBroken().stderr).toMatch(new RegExp(`BROKEN at event ${seq}: event ${seq} was inserted: it carries no valid seal, and the event after it was sealed directly after event ${seq - 1}`));
    });

    it('catches two events put in each other\'s place', async () => {
      const seq = await seqOf('approval.rejected', 'alice');
      await attack(async () => {
        await client.query('UPDATE audit_events SET seq = -1 WHERE seq = $1', [seq]);
        await client.query('UPDATE audit_events SET seq = $1 WHERE seq = $2', [seq, seq + 1]);
        await client.query('UPDATE audit_events SET seq = $1 WHERE seq = -1', [seq + 1]);
      });
      expect(verifyBroken().stderr).toMatch(
        new RegExp(`BROKEN at event ${seq}: events are out of order: event ${seq} holds what was sealed as event ${seq + 1}, and event ${seq + 1} what was sealed as event ${seq} \\(reordered\\)`),
      );
    });

    it('catches a cut-off tail, which only the anchor outside the database can show', async () => {
      await attack(async () => {
        await client.query('DELETE FROM audit_events WHERE seq > $1', [head - 3]);
      });
      expect(verifyBroken().stderr).toMatch(
        new RegExp(`BROKEN at event ${head - 2}: the chain ends at event ${head - 3}, but the anchor of \\S+ in ${dataDir}/audit-anchors.jsonl records event ${head}: the newest 3 event\\(s\\) were deleted \\(cut-off tail\\)`),
      );
    });

    it('reports an approval written into the approvals table behind the chain, and one whose reason was changed', async () => {
      await attack(async () => {
        const request = (await client.query<{ request_id: string }>('SELECT request_id FROM approvals WHERE incident_id = $1', [rejectedIncident])).rows[0]!.request_id;
        await client.query(`INSERT INTO approvals (incident_id, request_id, approver, approved, reason, channel) VALUES ($1, $2, 'bob', true, 'ship it', 'api')`, [rejectedIncident, request]);
        await client.query(`UPDATE approvals SET reason = 'fine' WHERE approver = 'alice'`);
      });
      const { stderr } = verifyBroken({ chain: 'intact' });
      expect(stderr).toMatch(/audit tables DO NOT MATCH the chain \(3\)/);
      expect(stderr).toMatch(new RegExp(`approvals row \\d+ \\(bob approved request [0-9a-f-]+ of incident ${rejectedIncident}\\) has no approval.granted event`));
      expect(stderr).toMatch(new RegExp(`approvals row \\d+ \\(alice rejected request [0-9a-f-]+ of incident ${rejectedIncident}\\) has no approval.rejected event`));
      expect(stderr).toMatch(/event \d+ \(approval.rejected by alice, incident .*\) has no matching approvals row/);
    });

    it('reports a run output or a proposal changed behind the chain', async () => {
      await attack(async () => {
        await client.query(`UPDATE remediation_runs SET output = 'nothing to see' WHERE incident_id = $1`, [rejectedIncident]);
        await client.query(`UPDATE incidents SET proposal = jsonb_set(proposal, '{diagnosis}', '"all fine"') WHERE id = $1`, [rejectedIncident]);
      });
      const { stderr } = verifyBroken({ chain: 'intact' });
      expect(stderr).toMatch(new RegExp(`run ${rejectedIncident}:dry-run:1: its state, exit code or output differs from its run.finished event`));
      expect(stderr).toMatch(new RegExp(`incident ${rejectedIncident}: its proposal is not what event \\d+ recorded`));

      await attack(async () => {
        await client.query(`UPDATE remediation_runs SET inputs = jsonb_set(inputs, '{host}', '"db1"') WHERE incident_id = $1`, [rejectedIncident]);
      });
      expect(verifyBroken({ chain: 'intact' }).stderr).toMatch(new RegExp(`run ${rejectedIncident}:dry-run:1 has no run.claimed event with the same action, target and inputs`));
    });
  });

  describe('responder audit export', () => {
    const exportFile = join(dataDir, 'export.jsonl');

    it('writes the chain and its anchors; verify --file checks it with the key alone', async () => {
      await restore();
      const exported = cli(['audit', 'export', '--config', configFile, '--output', exportFile]);
      expect(exported.status, exported.stderr).toBe(0);
      const lines = readFileSync(exportFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; seq?: number });
      expect(lines[0]).toMatchObject({ type: 'export', format: 'responder.audit.export/1', fromSeq: 1, toSeq: head, complete: true });
      expect(lines.filter((l) => l.type === 'event').map((l) => l.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      expect(lines.filter((l) => l.type === 'anchor').length).toBeGreaterThan(0);

      const verified = cli(['audit', 'verify', '--file', exportFile, '--key-file', keyFile]);
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(new RegExp(`^export of the whole chain, made \\S+: events 1–${head}$`, 'm'));
      expect(verified.stdout).toMatch(new RegExp(`^audit chain OK: ${head} events`, 'm'));
    });

    it('is refused when an event in it was edited, or when the key is not given', () => {
      const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
      const at = lines.findIndex((line) => line.includes('"approval.rejected"'));
      const seq = (JSON.parse(lines[at]!) as { seq: number }).seq;
      const edited = join(dataDir, 'edited.jsonl');
      writeFileSync(edited, `${lines.map((line, i) => (i === at ? line.replace('"actor":"alice"', '"actor":"bob"') : line)).join('\n')}\n`);
      const broken = cli(['audit', 'verify', '--file', edited, '--key-file', keyFile]);
      expect(broken.status).toBe(1);
      expect(broken.stderr).toMatch(new RegExp(`BROKEN at event ${seq}: event ${seq} was altered after it was sealed`));

      const keyless = cli(['audit', 'verify', '--file', exportFile]);
      expect(keyless.status).toBe(1);
      expect(keyless.stderr).toMatch(/BROKEN at event 1: event 1 is sealed with key [0-9a-f]{16}, which was not given/);
    });

    it("exports one incident's story: its events in full, the others between them as links that still verify", () => {
      const file = join(dataDir, 'incident.jsonl');
      const exported = cli(['audit', 'export', '--config', configFile, '--incident', rejectedIncident, '--output', file]);
      expect(exported.status, exported.stderr).toBe(0);
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; incidentId?: string; actor?: string });
      expect(lines[0]).toMatchObject({ type: 'export', incidentId: rejectedIncident, complete: false });
      const events = lines.filter((l) => l.type === 'event');
      expect(events.length).toBeGreaterThan(5);
      expect(events.every((e) => e.incidentId === rejectedIncident)).toBe(true);
      expect(lines.filter((l) => l.type === 'link').map((l) => l.incidentId)).toEqual(expect.arrayContaining(otherIncidents));
      expect(readFileSync(file, 'utf8')).not.toContain('AuditOne');

      const verified = cli(['audit', 'verify', '--file', file, '--key-file', keyFile]);
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(new RegExp(`export of incident ${rejectedIncident}`));
      expect(verified.stdout).toMatch(/\d+ of other incidents checked by their link/);
    });

    it('exports from a point in time to the newest event with --since', async () => {
      const rejection = (await client.query<{ seq: number; at: string }>(`SELECT seq::int, at FROM audit_events WHERE kind = 'approval.rejected'`)).rows[0]!;
      const file = join(dataDir, 'since.jsonl');
      expect(cli(['audit', 'export', '--config', configFile, '--since', rejection.at, '--output', file]).status).toBe(0);
      const header = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as { fromSeq: number; toSeq: number };
      expect(header.fromSeq).toBeLessThanOrEqual(rejection.seq);
      expect(header.toSeq).toBe(head);
      const verified = cli(['audit', 'verify', '--file', file, '--key-file', keyFile]);
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stderr).toMatch(new RegExp(`warning: the entries start at event ${header.fromSeq}`));
    });
  });
});

describe('the audit key at start', () => {
  it('a configured key file that is missing stops the start, naming it', async () => {
    const elsewhere = makeDataDir();
    const missing = join(elsewhere, 'no-such.key');
    try {
      await expect(startTestResponder({ audit: { keyFile: missing } }, elsewhere)).rejects.toThrow(`cannot read the audit key ${missing}: ENOENT`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a key file other users can read stops the start, saying how to fix it', async () => {
    const elsewhere = makeDataDir();
    const loose = join(elsewhere, 'audit.key');
    writeFileSync(loose, 'x'.repeat(64));
    chmodSync(loose, 0o644);
    try {
      await expect(startTestResponder({}, elsewhere)).rejects.toThrow(`the audit key ${loose} has mode 0644`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('responder config check', () => {
  it('prints every problem with its path and exits 1', () => {
    const broken = join(dataDir, 'broken.yaml');
    writeFileSync(
      broken,
      stringify({
        server: { port: -1 },
        routez: [],
        intake: { keyFile: join(dataDir, 'no-such-key') },
        routes: [{ name: 'r', matchers: ['severity: critical'], mode: 'sometimes' }],
      }),
    );
    const result = cli(['config', 'check', '--config', broken]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/configuration has 5 problem\(s\)/);
    expect(result.stderr).toMatch(/^ {2}- intake\.keyFile: cannot read secret file .*no-such-key: ENOENT$/m);
    expect(result.stderr).toMatch(/^ {2}- server\.port: /m);
    expect(result.stderr).toMatch(/^ {2}- routez: unknown key$/m);
    expect(result.stderr).toMatch(/^ {2}- routes\.0\.matchers\.0: not a label matcher/m);
    expect(result.stderr).toMatch(/^ {2}- routes\.0\.mode: /m);
  });

  it('counts the environment in: a bad RESPONDER_* value fails a good file', () => {
    const result = cli(['config', 'check', '--config', configFile], { RESPONDER_SERVER__PORT: 'eighty' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ {2}- server\.port: /m);
  });

  it('summarises a good config and exits 0', () => {
    const result = cli(['config', 'check', '--config', configFile]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^config OK$/m);
    expect(result.stdout).toContain(`database: embedded under ${dataDir}`);
    expect(result.stdout).toMatch(/routes: none/);
  });
});
