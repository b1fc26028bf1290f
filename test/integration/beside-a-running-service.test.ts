import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../src/eval/free-port.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { APPROVER_TOKEN, DEMO_CATALOG, makeDataDir, REPO } from '../support/responder-harness.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';

// The CLI reads RESPONDER_* and DATABASE_URL; the shell's must not point it elsewhere.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));
const dataDir = makeDataDir();
let port: number;
let config: Record<string, unknown>;
let service: ServiceProcess;

function postmasterPid(): number {
  return Number.parseInt(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8'), 10);
}

beforeAll(async () => {
  port = await freePort();
  config = {
    dataDir,
    server: { port },
    database: { embeddedPort: await freePort() },
    intake: { key: 'beside-key' },
    auth: { tokens: [`alice:${APPROVER_TOKEN}`] },
    execution: { catalogDir: DEMO_CATALOG, inventory: join(DEMO_CATALOG, 'inventory.ini') },
    policy: { policyDir: join(REPO, 'policies') },
    log: { level: 'warn' },
  };
  service = await startServiceProcess({ dataDir, config, port });
  const response = await fetch(`${service.url}/hooks/alertmanager/beside-key`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alertmanagerPayload([{ labels: { alertname: 'Beside' } }])) });
  expect(response.status).toBe(202);
});

afterAll(async () => {
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('responder audit verify beside a running service uses its database and leaves the service ready', () => {
  const before = postmasterPid();
  const result = spawnSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), 'audit', 'verify', '--config', join(dataDir, 'responder.yaml')], { encoding: 'utf8', timeout: 120_000, env: cleanEnv });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/audit chain OK: \d+ events/);
  expect(postmasterPid()).toBe(before);
  return fetch(`${service.url}/readyz`).then(async (ready) => {
    expect(ready.status).toBe(200);
    const list = await fetch(`${service.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } });
    expect(list.status).toBe(200);
  });
});

it('a second serve on the same data dir refuses with a clear message and leaves the first untouched', async () => {
  const before = postmasterPid();
  const second = join(dataDir, 'second.yaml');
  writeFileSync(second, stringify({ ...config, server: { port: await freePort() } }));
  const result = spawnSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), 'serve', '--config', second], { encoding: 'utf8', timeout: 120_000, env: cleanEnv });
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain(`another responder serve (pid ${service.pid}) is using the data dir ${dataDir}`);
  // One line, no stack trace.
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(postmasterPid()).toBe(before);
  expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
});
