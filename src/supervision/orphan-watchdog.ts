import { spawn } from 'node:child_process';

/**
 * Child servers (PostgreSQL, OPA) outlive a parent that is killed with -9. A tiny detached
 * watchdog signals the child once the parent is gone, so nothing is left holding ports or data dirs.
 */
export function watchForOrphan(parentPid: number, childPid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  const script = `
    const [parent, child, signal] = process.argv.slice(1);
    const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch (e) { return e.code === 'EPERM'; } };
    const timer = setInterval(() => {
      if (!alive(child)) { clearInterval(timer); return; }
      if (!alive(parent)) { clearInterval(timer); try { process.kill(Number(child), signal); } catch {} }
    }, 500);
  `;
  const watchdog = spawn(process.execPath, ['-e', script, String(parentPid), String(childPid), signal], { detached: true, stdio: 'ignore' });
  watchdog.unref();
}
