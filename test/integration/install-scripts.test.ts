import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { RESPONDER_VERSION } from '../../src/version.js';
import { REPO } from '../support/responder-harness.js';

const scratch = mkdtempSync(join(tmpdir(), 'responder-install-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

it('the install puts a `responder` command in the bin dir it names, which runs from any directory with the system PATH (as under sudo or systemd)', () => {
  const binDir = join(scratch, 'a bin dir');
  const install = spawnSync('bash', [join(REPO, 'scripts/install-command.sh')], { encoding: 'utf8', env: { ...process.env, RESPONDER_BIN_DIR: binDir } });
  expect(install.status, install.stderr).toBe(0);
  expect(install.stdout).toContain(`responder command: ${binDir}/responder`);
  expect(install.stdout).toContain(`export PATH="${binDir}:$PATH"`);

  const elsewhere = join(scratch, 'elsewhere');
  mkdirSync(elsewhere);
  const run = spawnSync('responder', ['--version'], { cwd: elsewhere, encoding: 'utf8', env: { HOME: elsewhere, PATH: `${binDir}:${SYSTEM_PATH}` } });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout.trim()).toBe(RESPONDER_VERSION);
  // Run again (a second install) it replaces its own wrapper, and leaves a file it did not write alone.
  expect(spawnSync('bash', [join(REPO, 'scripts/install-command.sh')], { env: { ...process.env, RESPONDER_BIN_DIR: binDir } }).status).toBe(0);
  const foreign = join(scratch, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'responder'), '#!/bin/sh\necho mine\n');
  const refused = spawnSync('bash', [join(REPO, 'scripts/install-command.sh')], { encoding: 'utf8', env: { ...process.env, RESPONDER_BIN_DIR: foreign } });
  expect(refused.status).toBe(1);
  expect(readFileSync(join(foreign, 'responder'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
});

/** An apt-get that finds the package lock held for its first `busy` calls, as when unattended-upgrades runs. */
function fakeAptGet(name: string, busy: number): { binDir: string; calls: () => string[] } {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const log = join(dir, 'calls');
  writeFileSync(
    join(dir, 'apt-get'),
    `#!/bin/sh
echo "$*" >> "${log}"
if [ "$(wc -l < "${log}")" -le ${busy} ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (unattended-upgr)" >&2
  echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
  exit 100
fi
echo "Reading package lists..."
`,
  );
  chmodSync(join(dir, 'apt-get'), 0o755);
  return { binDir: dir, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

const waitingAptGet = (binDir: string, waitSeconds: number) =>
  spawnSync('bash', [join(REPO, 'scripts/apt-get-waiting.sh'), 'update', '-q'], {
    encoding: 'utf8',
    env: { PATH: `${binDir}:${SYSTEM_PATH}`, APT_LOCK_WAIT_SECONDS: String(waitSeconds), APT_LOCK_POLL_SECONDS: '0.2' },
    timeout: 30_000,
  });

it('apt-get waits while another apt holds the package lock, saying who holds it, then goes on', () => {
  const apt = fakeAptGet('busy-twice', 2);
  const result = waitingAptGet(apt.binDir, 60);
  expect(result.status, result.stderr).toBe(0);
  expect(result.stderr).toContain('the package lock is held by process 4242 (unattended-upgr); waiting for it');
  expect(apt.calls()).toHaveLength(3);
  expect(apt.calls()[0]).toMatch(/^-o DPkg::Lock::Timeout=\d+ update -q$/);
});

it('apt-get gives up, non-zero and saying why, when the lock stays held past the bound', () => {
  const apt = fakeAptGet('busy-for-good', 1_000_000);
  const started = Date.now();
  const result = waitingAptGet(apt.binDir, 1);
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain('the package lock is still held by process 4242 (unattended-upgr) after 1s; giving up');
  expect(Date.now() - started).toBeLessThan(10_000);
});
