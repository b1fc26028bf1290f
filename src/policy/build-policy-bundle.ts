import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PolicyError } from '../domain/errors.js';

export { readBundleRevision } from './policy-bundle-file.js';

export const DECISION_ENTRYPOINT = 'responder/incident_response/decision';

const BUILD_TIMEOUT_MS = 120_000;

const run = promisify(execFile);

export interface BuildPolicyBundleOptions {
  opaBinary: string;
  policyDir: string;
  outFile: string;
}

export interface BuiltPolicyBundle {
  /** Absolute path of the written bundle. */
  outFile: string;
  /** The `.manifest` revision: {@link policySourceRevision} of the sources it was built from. */
  revision: string;
}

/**
 * The Rego a bundle is built from, as sorted slash-separated paths relative to policyDir. Recursive
 * because `opa run -s <dir>` loads subdirectories too, and the REST and wasm gates must see one policy.
 */
function policySources(policyDir: string): string[] {
  const sources: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(policyDir, relative), { withFileTypes: true })) {
      const path = relative ? posix.join(relative, entry.name) : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.rego') && !entry.name.endsWith('_test.rego')) sources.push(path);
    }
  };
  walk('');
  // Code-unit order, not locale order, so every machine hashes the files in the same sequence.
  return sources.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Names exactly the Rego a bundle was built from, so a stale bundle can be recognised without OPA. */
export function policySourceRevision(policyDir: string): string {
  const root = resolve(policyDir);
  const hash = createHash('sha256');
  for (const path of policySources(root)) {
    // The trailing NUL ends each entry, so one file's content cannot run into the next file's name.
    hash.update(path).update('\0').update(readFileSync(join(root, path))).update('\0');
  }
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

function outputOf(failure: { stdout?: unknown; stderr?: unknown; message: string }): string {
  // OPA prints build errors on stdout or stderr depending on the version; keep whichever has text.
  const said = [failure.stderr, failure.stdout]
    .map((text) => (typeof text === 'string' ? text.trim() : ''))
    .filter(Boolean)
    .join('\n');
  return said || failure.message;
}

/**
 * `opa build -t wasm` over the policy sources (tests excluded), run inside policyDir with relative
 * names so the bundle does not depend on where it was built and OPA's errors name `file.rego:line`.
 */
export async function buildPolicyBundle(options: BuildPolicyBundleOptions): Promise<BuiltPolicyBundle> {
  const policyDir = resolve(options.policyDir);
  const outFile = resolve(options.outFile);
  let sources: string[];
  try {
    sources = policySources(policyDir);
  } catch (error) {
    throw new PolicyError('policy_missing', `cannot read policy directory ${policyDir}: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (sources.length === 0) throw new PolicyError('policy_missing', `no .rego files (other than tests) in ${policyDir}`);
  const revision = policySourceRevision(policyDir);

  mkdirSync(dirname(outFile), { recursive: true });
  // A private name per build, so two builds into one place cannot interleave their writes.
  const partial = `${outFile}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  const args = ['build', '-t', 'wasm', '-e', DECISION_ENTRYPOINT, '--revision', revision, '-o', partial, ...sources];
  try {
    await run(options.opaBinary, args, { cwd: policyDir, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    rmSync(partial, { force: true });
    const failure = error as NodeJS.ErrnoException & { stdout?: unknown; stderr?: unknown; killed?: boolean };
    if (failure.code === 'ENOENT') {
      throw new PolicyError(
        'opa_missing',
        `cannot run ${options.opaBinary} to build the policy: not found (bash scripts/install-deps.sh installs OPA)`,
        undefined,
        { cause: error },
      );
    }
    if (failure.killed) {
      throw new PolicyError('policy_build_timeout', `opa build over ${policyDir} did not finish within ${BUILD_TIMEOUT_MS} ms`, undefined, { cause: error });
    }
    throw new PolicyError('policy_invalid', `policy in ${policyDir} does not compile:\n${outputOf(failure)}`, { policyDir, sources }, { cause: error });
  }
  // Replace in one step: a half-written bundle must never be what the service loads.
  renameSync(partial, outFile);
  return { outFile, revision };
}
