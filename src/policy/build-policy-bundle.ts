import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ResponderError } from '../domain/errors.js';

export { readBundleRevision } from './policy-bundle-file.js';

export const DECISION_ENTRYPOINT = 'responder/incident_response/decision';

function policySources(policyDir: string): string[] {
  return readdirSync(policyDir)
    .filter((file) => file.endsWith('.rego') && !file.endsWith('_test.rego'))
    .sort();
}

/** Names exactly the Rego a bundle was built from, so a stale bundle can be recognised without OPA. */
export function policySourceRevision(policyDir: string): string {
  const hash = createHash('sha256');
  for (const file of policySources(policyDir)) {
    hash.update(file).update('\0').update(readFileSync(resolve(policyDir, file))).update('\0');
  }
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

/**
 * `opa build -t wasm` over the policy sources (tests excluded), run inside policyDir with relative
 * names so the bundle does not depend on where it was built. OPA's own message, with file:line,
 * is the error when the Rego does not compile.
 */
export async function buildPolicyBundle(options: { opaBinary: string; policyDir: string; outFile: string }): Promise<{ outFile: string; revision: string }> {
  const policyDir = resolve(options.policyDir);
  const outFile = resolve(options.outFile);
  const sources = policySources(policyDir);
  if (sources.length === 0) throw new ResponderError('policy_missing', `no .rego files in ${policyDir}`);
  const revision = policySourceRevision(policyDir);
  mkdirSync(dirname(outFile), { recursive: true });
  const partial = `${outFile}.partial`;
  try {
    await promisify(execFile)(options.opaBinary, ['build', '-t', 'wasm', '-e', DECISION_ENTRYPOINT, '--revision', revision, '-o', partial, ...sources], {
      cwd: policyDir,
      timeout: 120_000,
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new ResponderError('opa_missing', `cannot run ${options.opaBinary} to build the policy: not found (bash scripts/install-deps.sh installs OPA)`);
    }
    // OPA writes build errors to stdout or stderr depending on the version; keep whichever has text.
    const said = [failure.stderr, failure.stdout].map((text) => text?.trim()).filter(Boolean).join('\n') || failure.message;
    throw new ResponderError('policy_invalid', `policy in ${policyDir} does not compile:\n${said}`);
  }
  // Replace atomically: a half-written bundle must never be what the service loads.
  renameSync(partial, outFile);
  return { outFile, revision };
}
