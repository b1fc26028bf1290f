import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { processesMentioning } from '../support/processes.js';
import { REPO } from '../support/responder-harness.js';

const CLI = join(REPO, 'dist/src/cli/main.js');
const scratch = mkdtempSync(join(tmpdir(), 'responder-demo-test-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A TMPDIR of the demo's own, so what it leaves behind (folders, processes named after them) can be seen. */
function demoTmpdir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  // The demo's embedded PostgreSQL runs as the postgres user when the tests run as root.
  chmodSync(dir, 0o755);
  return dir;
}

function expectNothingLeft(tmp: string): void {
  expect(readdirSync(tmp)).toEqual([]);
  expect(processesMentioning(tmp)).toEqual([]);
}

/** Holds a port the way a running service does, when nothing holds it already. */
function occupy(port: number): Promise<Server | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(null));
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

it('`responder demo` runs the whole loop offline and prints the story, beside a service on the default ports, and leaves nothing behind', async () => {
  const tmp = demoTmpdir('success');
  const held = await Promise.all([occupy(8080), occupy(54329)]);
  const result = spawnSync(process.execPath, [CLI, 'demo'], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, TMPDIR: tmp } });
  for (const server of held) server?.close();
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/in-process policy bundle/);
  expectNothingLeft(tmp);
  expect(result.stdout).toMatch(/202 Accepted: incident [0-9a-f-]{36}/);
  // Offline there is no Prometheus to verify with: the restart ran and the incident says it is unverified.
  expect(result.stdout).toMatch(/final state UNVERIFIED/);
  expect(result.stdout).toMatch(/remediation succeeded but was not verified/);
  expect(result.stdout).toMatch(/demo-auto-approver \(responder demo; not a person\)\s+approves round 1: /);
  expect(result.stdout).toMatch(/asks 1 person\(s\) to approve restart-process \{/);
  expect(result.stdout).toMatch(/execute of restart-process → succeeded \(exit 0\)/);
  expect(result.stdout).toMatch(/restarted by the real ansible-playbook/);
  expect(result.stdout).toMatch(/Audit chain verified: 20 events/);
}, 300_000);

it('a demo that fails to start stops its demo process and removes its folder', () => {
  const tmp = demoTmpdir('failed-start');
  // A data dir held by a live node process (this test runner) stands for one a running service owns.
  const held = join(scratch, 'held-data-dir');
  mkdirSync(held);
  writeFileSync(join(held, 'serve.pid'), `${process.pid}\n`);
  const result = spawnSync(process.execPath, [CLI, 'demo', '--data-dir', held], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TMPDIR: tmp } });
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/another responder serve \(pid \d+\) is using the data dir/);
  expectNothingLeft(tmp);
});

it('Ctrl-C in the middle of the demo stops everything it started and removes its folder', async () => {
  const tmp = demoTmpdir('interrupted');
  const demo = spawn(process.execPath, [CLI, 'demo'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => demo.once('exit', (code) => done(code)));
  const deadline = Date.now() + 120_000;
  while (!output.includes('Accepted: incident') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(output).toContain('Accepted: incident');
  // As a terminal sends it: to the whole process group.
  process.kill(-demo.pid!, 'SIGINT');
  expect(await exited, output).toBe(130);
  expectNothingLeft(tmp);
}, 180_000);
