import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from '../../src/eval/prometheus-server.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const POLICY_DIR = join(REPO_ROOT, 'policies');

const PINNED_OPA = join(REPO_ROOT, '.tools', 'bin', 'opa');

/** The repo's pinned OPA unless OPA_BIN says otherwise; `opa` on PATH when neither is there. */
export const OPA_BIN = process.env.OPA_BIN ?? (existsSync(PINNED_OPA) ? PINNED_OPA : 'opa');

export interface OpaServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  stop(): Promise<void>;
}

export interface OpaServerOptions {
  policyDir: string;
  /** Load policyDir as a bundle, so a `.manifest` revision shows up in decision provenance. */
  bundle?: boolean;
}

/** A real `opa run -s` over a policy directory, on a free loopback port. */
export async function startOpaServer(options: OpaServerOptions): Promise<OpaServer> {
  // The server runs with its scratch dir as cwd, so a relative policy path must be resolved here.
  const policyDir = resolve(options.policyDir);
  const dir = await mkdtemp(join(tmpdir(), 'responder-opa-'));
  const server = await startServerProcess({
    name: 'opa',
    bin: OPA_BIN,
    dir,
    readyPath: '/health',
    readyTimeoutMs: 15_000,
    args: (port) => [
      'run',
      '--server',
      '--addr',
      `127.0.0.1:${port}`,
      '--log-level',
      'error',
      '--skip-version-check',
      ...(options.bundle ? ['--bundle'] : []),
      policyDir,
    ],
  });
  return { url: server.url, stop: () => server.stop() };
}
