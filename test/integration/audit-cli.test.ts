import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { makeDataDir, REPO, startTestResponder } from '../support/responder-harness.js';

const dataDir = makeDataDir();
let configFile: string;
let embeddedPort: number;

// The CLI reads RESPONDER_* and DATABASE_URL; one set in the shell running the tests (a CI's
// DATABASE_URL, say) would point it at another database.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8', timeout: 120_000, env: { ...cleanEnv, ...env } });
}

/** Connects as the embedded cluster's own user, a superuser, the way someone with shell access to the host could. */
async function asSuperuser<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const db = await startEmbeddedDatabase({ dataDir, port: embeddedPort });
  try {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  } finally {
    await db.stop();
  }
}

beforeAll(async () => {
  const responder = await startTestResponder({ routes: [] }, dataDir);
  embeddedPort = Number(new URL(responder.databaseUrl).port);
  try {
    for (const name of ['AuditOne', 'AuditTwo']) {
      const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: name } }]));
      expect(response.status).toBe(202);
    }
  } finally {
    await responder.stop();
  }
  configFile = join(dataDir, 'responder.yaml');
  writeFileSync(configFile, stringify({ dataDir, database: { embeddedPort }, intake: { key: 'k' } }));
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('responder audit verify', () => {
  it('walks an intact chain, says so and exits 0', () => {
    const result = cli(['audit', 'verify', '--config', configFile]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^audit chain OK: 2 events, head [0-9a-f]{64}$/m);
  });

  it('is backed by a database that refuses to change or delete an audit event', async () => {
    await asSuperuser(async (client) => {
      await expect(client.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(client.query(`UPDATE audit_events SET seq = 99 WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM audit_events WHERE seq = 2')).rejects.toThrow(/append-only/);
      const rows = await client.query<{ actor: string }>('SELECT actor FROM audit_events ORDER BY seq');
      expect(rows.rows).toHaveLength(2);
      expect(rows.rows.map((r) => r.actor)).not.toContain('mallory');
    });
  });

  it('catches a superuser who disables the guard and rewrites an event: names it and exits 1', async () => {
    await asSuperuser(async (client) => {
      await client.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
      await client.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`);
      await client.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    });
    const result = cli(['audit', 'verify', '--config', configFile]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/audit chain BROKEN at event 1: event 1 was altered after it was written/);
    expect(result.stdout).not.toMatch(/audit chain OK/);
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
