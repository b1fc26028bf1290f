import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ControlledProcess {
  /** Temp dir holding the script, pidfile and log; removed by stop(). */
  dir: string;
  pidFile: string;
  scriptPath: string;
  logFile: string;
  /**
   * argv that starts a replacement (the same script, same pidfile). A playbook restarts the
   * process by killing `pid()` and running this detached, e.g.
   * `nohup node <scriptPath> <pidFile> >> <logFile> 2>&1 &`.
   */
  command: string[];
  /** The pid currently written in the pidfile: changes when something restarted the process. */
  pid(): number;
  isAlive(pid?: number): boolean;
  /** Resolves with the new pid once the pidfile names a different, live process. */
  waitForPidChange(previousPid: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

// Written by the process itself, so a restart done by anyone (Ansible included) updates it.
const SCRIPT = `'use strict';
const fs = require('node:fs');
const pidFile = process.argv[2];
fs.writeFileSync(pidFile + '.tmp', String(process.pid));
fs.renameSync(pidFile + '.tmp', pidFile);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1e9);
`;

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(0) succeeds on a zombie; a killed child that its parent has not reaped yet is not alive.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

async function terminate(pid: number): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (!(await waitUntil(() => !alive(pid), 3_000))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited between the check and the kill
    }
    await waitUntil(() => !alive(pid), 3_000);
  }
}

/**
 * A long-running stand-in for a service: a remediation that restarts it is proven by the pid in the
 * pidfile changing to another live process.
 */
export async function startControlledProcess(): Promise<ControlledProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'responder-proc-'));
  const scriptPath = join(dir, 'service.cjs');
  const pidFile = join(dir, 'service.pid');
  const logFile = join(dir, 'service.log');
  await writeFile(scriptPath, SCRIPT);

  const command = [process.execPath, scriptPath, pidFile];
  const child = spawn(command[0]!, command.slice(1), { detached: true, stdio: 'ignore' });
  // Not tied to the test's event loop: the process must outlive nothing but stop().
  child.unref();
  const started = await waitUntil(() => readPid(pidFile) !== undefined, 10_000);
  if (!started || child.pid === undefined) {
    if (child.pid !== undefined) await terminate(child.pid);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`controlled process did not write ${pidFile} within 10 s`);
  }
  const firstPid = child.pid;

  const currentPid = (): number => {
    const pid = readPid(pidFile);
    if (pid === undefined) throw new Error(`no pid in ${pidFile}`);
    return pid;
  };

  let stopping: Promise<void> | undefined;
  return {
    dir,
    pidFile,
    scriptPath,
    logFile,
    command,
    pid: currentPid,
    isAlive(pid) {
      const target = pid ?? readPid(pidFile);
      return target !== undefined && alive(target);
    },
    async waitForPidChange(previousPid, timeoutMs = 30_000) {
      let next: number | undefined;
      const changed = await waitUntil(() => {
        next = readPid(pidFile);
        return next !== undefined && next !== previousPid && alive(next);
      }, timeoutMs);
      if (!changed || next === undefined) {
        throw new Error(`pid in ${pidFile} still ${readPid(pidFile) ?? 'absent'} after ${timeoutMs} ms (was ${previousPid})`);
      }
      return next;
    },
    stop() {
      stopping ??= (async () => {
        const pids = new Set<number>([firstPid]);
        const latest = readPid(pidFile);
        if (latest !== undefined) pids.add(latest);
        await Promise.all([...pids].map((pid) => terminate(pid)));
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
