import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO } from './responder-harness.js';

export interface ServiceProcess {
  url: string;
  pid: number;
  /** The crash under test: no shutdown hooks run. */
  kill9(): Promise<void>;
  /** SIGTERM, as systemd sends; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');

/** Runs the built `responder serve` as a real child process, so a test can kill -9 it. */
export async function startServiceProcess(options: { dataDir: string; config: Record<string, unknown>; port: number }): Promise<ServiceProcess> {
  const configFile = join(options.dataDir, 'responder.yaml');
  writeFileSync(configFile, stringify(options.config));
  const log = openSync(join(options.dataDir, 'service.log'), 'a');
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--config', configFile], { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${options.port}`;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`responder serve exited with ${exitCode}; see ${join(options.dataDir, 'service.log')}`);
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ready) {
      return {
        url,
        pid: child.pid!,
        async kill9() {
          child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (exitCode !== undefined) return exitCode;
          child.kill('SIGTERM');
          return exited;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`responder serve did not become ready; see ${join(options.dataDir, 'service.log')}`);
}
