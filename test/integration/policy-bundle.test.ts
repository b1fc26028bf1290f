import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/config.schema.js';
import { startResponder } from '../../src/main.js';
import { buildPolicyBundle, policySourceRevision } from '../../src/policy/build-policy-bundle.js';
import { readPolicyBundle, readTarGz } from '../../src/policy/policy-bundle-file.js';
import { freePort } from '../support/free-port.js';
import { OPA_BIN, POLICY_DIR } from '../support/opa-server.js';
import { DEMO_CATALOG, REPO, makeDataDir } from '../support/responder-harness.js';

const COMMITTED = join(REPO, 'policy-bundle/incident_response.tar.gz');
const scratch = mkdtempSync(join(tmpdir(), 'responder-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('the committed bundle is what a real OPA builds from policies/ today (run `responder policy build` if not)', async () => {
  const rebuilt = await buildPolicyBundle({ opaBinary: OPA_BIN, policyDir: POLICY_DIR, outFile: join(scratch, 'fresh.tar.gz') });
  const committed = await readPolicyBundle(COMMITTED);
  expect(committed.revision, 'bundle revision names the current Rego sources').toBe(policySourceRevision(POLICY_DIR));
  expect(committed.revision).toBe(rebuilt.revision);
  // `opa build -t wasm` is byte-deterministic for the same sources, so the modules must match exactly.
  const fresh = readTarGz(readFileSync(rebuilt.outFile));
  expect(committed.wasm.equals(fresh.get('policy.wasm')!)).toBe(true);
});

function brokenPolicyDir(): string {
  const dir = mkdtempSync(join(scratch, 'broken-'));
  copyFileSync(join(POLICY_DIR, 'incident_response.rego'), join(dir, 'incident_response.rego'));
  writeFileSync(join(dir, 'extra.rego'), 'package responder.incident_response\n\nbroken if {\n  input.x ==\n}\n');
  return dir;
}

it('a policy that does not compile is refused with OPA file:line', async () => {
  await expect(buildPolicyBundle({ opaBinary: OPA_BIN, policyDir: brokenPolicyDir(), outFile: join(scratch, 'broken.tar.gz') })).rejects.toThrow(/extra\.rego:\d+/);
});

it('a broken policy stops start-up with the file and line', async () => {
  const dataDir = makeDataDir();
  try {
    const config = ConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      database: { embeddedPort: await freePort() },
      intake: { key: 'k' },
      execution: { catalogDir: DEMO_CATALOG },
      policy: { policyDir: brokenPolicyDir(), opaBinary: OPA_BIN },
      log: { level: 'silent' },
    });
    await expect(startResponder(config, { log: pino({ level: 'silent' }) })).rejects.toThrow(/does not compile:[\s\S]*extra\.rego:\d+/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
