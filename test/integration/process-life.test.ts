import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { freePort } from '../../src/eval/free-port.js';
import { processesMentioning } from '../support/processes.js';
import { REPO } from '../support/responder-harness.js';

const CLI = join(REPO, 'dist/src/cli/main.js');
// The CLI reads RESPONDER_* and DATABASE_URL; the shell's must not point it elsewhere.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));
const scratch = mkdtempSync(join(tmpdir(), 'responder-process-life-'));
chmodSync(scratch, 0o755);
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Service {
  dir: string;
  file: string;
  port: number;
}

/** A config written by `responder init` on free ports, with an absolute data dir (npm runs from the repository). */
async function initService(name: string): Promise<Service> {
  const dir = join(scratch, name);
  const file = join(dir, 'responder.yaml');
  const port = await freePort();
  execFileSync('mkdir', ['-p', dir]);
  const args = ['init', '--config', file, '--port', String(port), '--embedded-port', String(await freePort()), '--data-dir', join(dir, 'data')];
  execFileSync(process.execPath, [CLI, ...args], { env: cleanEnv, encoding: 'utf8' });
  return { dir, file, port };
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  // Its own process group, as a terminal or a supervisor gives it.
  const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: options.env ?? cleanEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

async function ready(port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready on ${port}:\n${output()}`);
}

function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, fail) => setTimeout(() => fail(new Error(`${what} took longer than ${ms} ms`)), ms))]);
}

/** What an ordered stop shows: Responder says it stopped, nothing logged an error, nothing of it is left. */
function expectOrderedStop(service: Service, output: string): void {
  expect(output).toMatch(/"msg":"stopped"/);
  expect(output.split('\n').filter((line) => /"level":[56]0|terminating connection due to administrator command|Unexpected error/.test(line))).toEqual([]);
  expect(processesMentioning(service.dir)).toEqual([]);
}

it('`npm start` passes SIGTERM on to the service, which stops in order with its PostgreSQL; npm exits after it', async () => {
  const service = await initService('npm-sigterm');
  const npm = run('npm', ['start', '--', '--config', service.file]);
  await ready(service.port, npm.output);
  const serve = processesMentioning(service.file).find((line) => line.includes('main.js serve'));
  expect(serve, 'npm runs node in place of its shell (exec)').toBeDefined();
  npm.child.kill('SIGTERM');
  await withinMs(npm.exited, 45_000, 'npm start stopping');
  expectOrderedStop(service, npm.output());
}, 150_000);

it('Ctrl-C on `npm start` (SIGINT to the whole process group) stops in order: PostgreSQL does not get it first', async () => {
  const service = await initService('ctrl-c');
  const npm = run('npm', ['start', '--', '--config', service.file]);
  await ready(service.port, npm.output);
  // Work in flight while it stops: a routed alert the workflow is busy with.
  const key = /key: "([^"]+)"/.exec(readFileSync(service.file, 'utf8'))![1]!;
  const alert = { version: '4', receiver: 'r', status: 'firing', groupKey: 'g', alerts: [{ status: 'firing', labels: { alertname: 'CtrlC', agentic: 'true' }, annotations: {}, startsAt: new Date().toISOString() }], groupLabels: {}, commonLabels: {}, commonAnnotations: {} };
  expect((await fetch(`http://127.0.0.1:${service.port}/hooks/alertmanager/${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) })).status).toBe(202);
  process.kill(-npm.child.pid!, 'SIGINT');
  await withinMs(npm.exited, 45_000, 'npm start stopping');
  expectOrderedStop(service, npm.output());
}, 150_000);

it('the systemd unit: ExecStart through the installed `responder` command, KillSignal to the main process only, exits 0 within TimeoutStopSec', async () => {
  const unit = readFileSync(join(REPO, 'examples/systemd/responder.service'), 'utf8');
  const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]?.trim();
  const [binary, ...args] = setting('ExecStart')!.split(/\s+/);
  expect(binary!.endsWith('/responder')).toBe(true);
  expect(args).toEqual(['serve']);
  expect(setting('KillMode')).toBe('mixed');
  expect(setting('Environment')).toMatch(/^RESPONDER_CONFIG=/);
  const signal = setting('KillSignal') as NodeJS.Signals;
  const stopTimeoutMs = Number(setting('TimeoutStopSec')) * 1000;

  const service = await initService('systemd');
  const binDir = join(service.dir, 'bin');
  execFileSync('bash', [join(REPO, 'scripts/install-command.sh')], { env: { ...cleanEnv, RESPONDER_BIN_DIR: binDir }, encoding: 'utf8' });
  // The unit's environment, with its config path pointed at this test's config.
  const unitProcess = run(join(binDir, 'responder'), args, { cwd: service.dir, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', RESPONDER_CONFIG: service.file } });
  await ready(service.port, unitProcess.output);
  // systemd's main PID is the node process itself: the wrapper execs it.
  expect(readFileSync(`/proc/${unitProcess.child.pid}/cmdline`, 'utf8')).toContain('main.js');
  unitProcess.child.kill(signal);
  expect(await withinMs(unitProcess.exited, stopTimeoutMs, 'the unit stopping')).toBe(0);
  expectOrderedStop(service, unitProcess.output());
}, 150_000);

it('a server.port that is taken is one line naming the port and the config key, exit 1, before anything starts', async () => {
  const taken: Server = createServer();
  const port = await freePort();
  await new Promise<void>((done) => taken.listen(port, '127.0.0.1', done));
  try {
    const dir = join(scratch, 'port-taken');
    execFileSync('mkdir', ['-p', dir]);
    const file = join(dir, 'responder.yaml');
    writeFileSync(file, `server: { port: ${port} }\ndataDir: ${join(dir, 'data')}\ndatabase: { embeddedPort: ${await freePort()} }\nlog: { level: warn }\n`);
    const result = spawnSync(process.execPath, [CLI, 'serve', '--config', file], { env: cleanEnv, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(`port ${port} is already in use on 127.0.0.1 (server.port, RESPONDER_SERVER__PORT): stop what listens there or choose another port`);
    expect(processesMentioning(dir)).toEqual([]);
  } finally {
    taken.close();
  }
});
