import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from '../support/responder-harness.js';

const CLI = join(REPO, 'dist/src/cli/main.js');
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));
const scratch = mkdtempSync(join(tmpdir(), 'responder-init-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const responder = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd, env: cleanEnv, encoding: 'utf8', timeout: 60_000 });

function occupy(port: number): Promise<Server | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(null));
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

it('`responder init` writes a config that works as printed: the Alertmanager and Grafana URLs carry its real port and key, the token is printed once', async () => {
  const dir = join(scratch, 'fresh');
  mkdirSync(dir);
  // 8080 taken, as on many homelab machines: init says so and uses the next free port.
  const held = await occupy(8080);
  const result = responder(dir, 'init', '--name', 'alice');
  held?.close();
  expect(result.status, result.stderr).toBe(0);
  const text = readFileSync(join(dir, 'responder.yaml'), 'utf8');
  const config = parse(text) as { server: { port: number }; intake: { key: string }; auth: { tokens: string[] } };
  expect(config.server.port).not.toBe(8080);
  expect(result.stdout).toContain(`note: port 8080 is in use on this machine; server.port is ${config.server.port} instead`);

  const token = result.stdout.split('\n')[result.stdout.split('\n').findIndex((line) => line.startsWith('Admin token for "alice"')) + 1]!.trim();
  expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(text).not.toContain(token);
  expect(config.auth.tokens).toEqual([`alice:sha256:${createHash('sha256').update(token).digest('hex')}:admin`]);
  const base = `http://127.0.0.1:${config.server.port}`;
  expect(result.stdout).toContain(`        - url: ${base}/hooks/alertmanager/${config.intake.key}\n          send_resolved: true`);
  expect(result.stdout).toContain(`url: ${base}/hooks/grafana/${config.intake.key}`);

  const check = responder(dir, 'config', 'check');
  expect(check.status, check.stderr).toBe(0);
  expect(check.stdout).toMatch(/routes: agentic \(approve\)/);
  const status = responder(dir, 'status');
  expect(status.stdout).toContain('ok       routes: agentic (approve, agentic="true")');
  expect(status.stdout).toContain('ok       who can decide: alice (admin)');
});

it('`responder init` never overwrites a config: it says so and exits non-zero', () => {
  const dir = join(scratch, 'existing');
  mkdirSync(dir);
  const file = join(dir, 'mine.yaml');
  writeFileSync(file, 'server: { port: 9999 }\n');
  const result = responder(dir, 'init', '--config', file);
  expect(result.status).toBe(1);
  expect(result.stderr.trim()).toBe(`${file} already exists; left as it is. \`responder status\` shows what it configures; write a new one elsewhere with --config <file>.`);
  expect(readFileSync(file, 'utf8')).toBe('server: { port: 9999 }\n');
});
