import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startEmbeddedDatabase } from '../../src/store/embedded-postgres.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { REPO, startTestResponder } from '../support/responder-harness.js';

let dataDir: string;
let configFile: string;
let embeddedPort: number;

function cli(...args: string[]) {
  return spawnSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
}

async function withDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const db = await startEmbeddedDatabase({ dataDir, port: embeddedPort });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
    await db.stop();
  }
}

beforeAll(async () => {
  const responder = await startTestResponder({ routes: [] });
  dataDir = responder.dataDir;
  embeddedPort = Number(new URL(responder.databaseUrl).port);
  for (const name of ['AuditOne', 'AuditTwo']) {
    const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: name } }]));
    expect(response.status).toBe(202);
  }
  await responder.stop();
  configFile = join(dataDir, 'audit.yaml');
  writeFileSync(configFile, stringify({ dataDir, database: { embeddedPort }, intake: { key: 'k' } }));
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('`responder audit verify` walks an intact chain and says so', () => {
  const result = cli('audit', 'verify', '--config', configFile);
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^audit chain OK: 2 events, head [0-9a-f]{64}$/m);
});

it('the database refuses to change or delete an audit event', async () => {
  await withDatabase(async (client) => {
    await expect(client.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(client.query('DELETE FROM audit_events WHERE seq = 2')).rejects.toThrow(/append-only/);
    await expect(client.query(`UPDATE audit_events SET seq = 99 WHERE seq = 1`)).rejects.toThrow(/append-only/);
  });
});

it('a superuser who bypasses that is caught: verify names the altered event and exits 1', async () => {
  await withDatabase(async (client) => {
    await client.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await client.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`);
    await client.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
  });
  const result = cli('audit', 'verify', '--config', configFile);
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/audit chain BROKEN at event 1: event 1 was altered after it was written/);
});

it('`responder config check` lists every problem and exits 1, or summarises a good config', () => {
  const broken = join(dataDir, 'broken.yaml');
  writeFileSync(broken, 'server:\n  port: -1\nroutes:\n  - name: r\n    mode: sometimes\n');
  const bad = cli('config', 'check', '--config', broken);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/configuration has 2 problem\(s\)/);
  expect(bad.stderr).toMatch(/server\.port: /);
  expect(bad.stderr).toMatch(/routes\.0\.mode: /);
  const good = cli('config', 'check', '--config', configFile);
  expect(good.status, good.stderr).toBe(0);
  expect(good.stdout).toMatch(/config OK/);
});
