import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PidfileService {
  pidfile: string;
  /** Executable that starts the service and writes its pid; what the restart-process playbook runs. */
  command: string;
  pid(): number;
  isAlive(): boolean;
  stop(): void;
}

/**
 * A harmless idle process with a pidfile and a start script: the "service" that the demo and
 * the end-to-end tests let a real ansible-playbook restart where no systemd is available.
 */
export function startPidfileService(directory: string, name = 'demo-service'): PidfileService {
  const pidfile = join(directory, `${name}.pid`);
  const command = join(directory, `start-${name}.sh`);
  // The pidfile rides along as an argument, so `ps` (and a test looking for leftovers) can tell whose process it is.
  writeFileSync(command, `#!/bin/sh\nnohup "${process.execPath}" -e "setInterval(() => {}, 1 << 30)" "${pidfile}" >/dev/null 2>&1 &\necho $! > "${pidfile}"\n`);
  chmodSync(command, 0o755);
  spawnSync(command, { stdio: 'ignore' });
  const pid = () => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : 0);
  const isAlive = () => {
    try {
      process.kill(pid(), 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    pidfile,
    command,
    pid,
    isAlive,
    stop() {
      try {
        process.kill(pid());
      } catch {
        // Already gone.
      }
    },
  };
}
