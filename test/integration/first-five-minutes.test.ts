import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fakeSystemctl } from '../support/fake-systemctl.js';
import { processesMentioning } from '../support/processes.js';
import { REPO } from '../support/responder-harness.js';

// The CLI reads RESPONDER_* and DATABASE_URL; the shell's must not point it elsewhere.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));
const home = mkdtempSync(join(tmpdir(), 'responder-first-run-'));
// The embedded PostgreSQL runs as the postgres user when the tests run as root.
chmodSync(home, 0o755);
let service: ChildProcess | undefined;

afterAll(() => {
  if (service?.exitCode === null) service.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** The line after the one starting with `heading`, as printed. */
function printedAfter(output: string, heading: string): string {
  const lines = output.split('\n');
  const at = lines.findIndex((line) => line.startsWith(heading));
  expect(at, `no "${heading}" in:\n${output}`).toBeGreaterThanOrEqual(0);
  return lines[at + 1]!.trim();
}

const sh = (command: string) => execFileSync('sh', ['-c', command], { encoding: 'utf8', timeout: 30_000 });

async function until<T>(what: string, probe: () => T | null | Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

// As root, Ansible's become is a no-op here; as another user the shipped playbook needs passwordless sudo.
it.skipIf(process.getuid?.() !== 0)(
  'a first start with no config writes one, and the printed test alert waits for the printed token, is approved and runs once',
  async () => {
    const systemctl = fakeSystemctl(home);
    let output = '';
    service = spawn(process.execPath, [join(REPO, 'dist/src/cli/main.js'), 'serve', '--init'], {
      cwd: home,
      env: { ...cleanEnv, PATH: `${systemctl.binDir}:${cleanEnv.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => service!.once('exit', (code) => done(code)));

    await until('the service to listen', () => (output.includes('Responder is listening') ? true : null));
    const configFile = join(home, 'responder.yaml');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const config = parse(readFileSync(configFile, 'utf8')) as { server: { port: number }; intake: { key: string }; auth: { tokens: string[] } };
    const token = printedAfter(output, 'Admin token for');
    expect(readFileSync(configFile, 'utf8')).not.toContain(token);
    expect(output).toContain(`url: http://127.0.0.1:${config.server.port}/hooks/alertmanager/${config.intake.key}`);

    const accepted = JSON.parse(sh(printedAfter(output, 'Test alert'))) as { incidents: { id: string }[] };
    const id = accepted.incidents[0]!.id;
    const waiting = await until('the incident to wait for approval', () => {
      const list = JSON.parse(sh(printedAfter(output, 'Waiting for you:'))) as { incidents: { id: string; route: string; mode: string }[] };
      return list.incidents.find((incident) => incident.id === id) ?? null;
    });
    expect(waiting).toMatchObject({ route: 'agentic', mode: 'approve' });
    expect(systemctl.changes()).toEqual([]);

    const decision = JSON.parse(sh(printedAfter(output, 'Approve it:').replace('<incident id>', id))) as { accepted: boolean; approver: string };
    expect(decision).toMatchObject({ accepted: true });
    const base = `http://127.0.0.1:${config.server.port}`;
    const final = await until('the incident to finish', async () => {
      const record = (await (await fetch(`${base}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { state: string; stateReason: string };
      return ['resolved', 'failed', 'unverified'].includes(record.state) ? record : null;
    });
    // The starter config names no Prometheus: the restart ran, and nothing could verify it.
    expect(final.state, final.stateReason).toBe('unverified');
    expect(final.stateReason).toMatch(/^remediation succeeded but was not verified/);
    expect(systemctl.changes()).toEqual(['restart cron']);

    service.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
    expect(output).not.toMatch(/"level":50/);
    // A new user reads every line of the first start; a library's warning there looks like a fault.
    expect(output).not.toContain('Warning');
    expect(processesMentioning(home)).toEqual([]);
  },
  180_000,
);
