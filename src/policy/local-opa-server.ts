import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { PolicyError } from '../domain/errors.js';
import { watchForOrphan } from '../supervision/orphan-watchdog.js';

export interface LocalOpaServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Runs a real `opa run -s` over the policy directory on loopback, for installs that do not run
 * their own OPA. A policy that does not compile stops start-up with OPA's own message (file:line).
 */
export async function startLocalOpaServer(options: { binary: string; policyDir: string; startTimeoutMs?: number }): Promise<LocalOpaServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--skip-version-check', resolve(options.policyDir)];
  // A process group of its own: a terminal's Ctrl-C reaches Responder only, which stops OPA in order.
  const child = spawn(options.binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8000)));
  const exited = new Promise<string>((done) => {
    child.once('error', (error) => done(`could not start ${options.binary}: ${error.message}`));
    child.once('exit', (code) => done(`opa exited with code ${code}: ${stderr.trim()}`));
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  let failure: string | null = null;
  void exited.then((reason) => (failure = reason));
  while (Date.now() < deadline) {
    if (failure) break;
    const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) }).then((r) => r.ok, () => false);
    if (healthy) {
      if (child.pid) watchForOrphan(process.pid, child.pid);
      return {
        url,
        async stop() {
          if (child.exitCode !== null) return;
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new PolicyError('policy_start_failed', `the local OPA server did not start over ${resolve(options.policyDir)}: ${failure ?? 'no answer on /health in time'}`);
}
