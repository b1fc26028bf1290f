import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/config.schema.js';
import { ResponderError } from '../../src/domain/errors.js';
import { startResponder } from '../../src/main.js';
import { buildPolicyBundle, DECISION_ENTRYPOINT, policySourceRevision, readBundleRevision } from '../../src/policy/build-policy-bundle.js';
import { createOpaWasmGate } from '../../src/policy/opa-wasm-gate.js';
import { readTarGz } from '../../src/policy/policy-bundle-file.js';
import { policyInput } from '../../src/policy/policy-gate.contract.js';
import { NO_DECISION_REASON } from '../../src/policy/policy-gate.js';
import { freePort } from '../../src/eval/free-port.js';
import { OPA_BIN, POLICY_DIR, REPO_ROOT } from '../support/opa-server.js';
import { DEMO_CATALOG, makeDataDir } from '../support/responder-harness.js';

const COMMITTED = join(REPO_ROOT, 'policy-bundle', 'incident_response.tar.gz');
const REBUILD_HINT = 'stale: run `responder policy build` and commit policy-bundle/';
const scratch = mkdtempSync(join(tmpdir(), 'responder-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function policyDirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(scratch, 'policy-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('the committed bundle', () => {
  it('is what the pinned OPA builds from policies/ today', async () => {
    const rebuilt = await buildPolicyBundle({ opaBinary: OPA_BIN, policyDir: POLICY_DIR, outFile: join(scratch, 'fresh.tar.gz') });
    expect(await readBundleRevision(COMMITTED), REBUILD_HINT).toBe(policySourceRevision(POLICY_DIR));
    expect(rebuilt.revision).toBe(policySourceRevision(POLICY_DIR));
    // `opa build -t wasm` is byte-deterministic (fixed mtimes, same sources in, same bytes out), so
    // every file must match, the compiled module included, not only the revision that names the sources.
    const committed = readTarGz(readFileSync(COMMITTED));
    const fresh = readTarGz(readFileSync(rebuilt.outFile));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [name, bytes] of fresh) expect(committed.get(name)?.equals(bytes), `${name} ${REBUILD_HINT}`).toBe(true);
  });

  it('names its sources only: tests do not change the revision, any Rego source does', () => {
    const sources = readFileSync(join(POLICY_DIR, 'incident_response.rego'), 'utf8');
    const withTests = policyDirWith({ 'incident_response.rego': sources, 'incident_response_test.rego': 'package other\n' });
    expect(policySourceRevision(withTests)).toBe(policySourceRevision(POLICY_DIR));
    const edited = policyDirWith({ 'incident_response.rego': `${sources}\n` });
    expect(policySourceRevision(edited)).not.toBe(policySourceRevision(POLICY_DIR));
    expect(policySourceRevision(POLICY_DIR)).toMatch(/^sha256:[0-9a-f]{16}$/);
  });
});

describe('a policy that does not compile', () => {
  const broken = () => {
    const dir = policyDirWith({ 'extra.rego': 'package responder.incident_response\n\nbroken if {\n  input.x ==\n}\n' });
    copyFileSync(join(POLICY_DIR, 'incident_response.rego'), join(dir, 'incident_response.rego'));
    return dir;
  };

  it('is refused with OPA’s file:line, and leaves no bundle behind', async () => {
    const outFile = join(scratch, 'broken', 'broken.tar.gz');
    const error: unknown = await buildPolicyBundle({ opaBinary: OPA_BIN, policyDir: broken(), outFile }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ResponderError);
    expect((error as ResponderError).code).toBe('policy_invalid');
    expect((error as ResponderError).message).toMatch(/does not compile:[\s\S]*extra\.rego:5: rego_parse_error/);
    expect(readdirSync(join(scratch, 'broken'))).toEqual([]);
  });

  it('stops start-up with the file and line', async () => {
    const dataDir = makeDataDir();
    try {
      const config = ConfigSchema.parse({
        dataDir,
        server: { port: 0 },
        database: { embeddedPort: await freePort() },
        intake: { key: 'k' },
        execution: { catalogDir: DEMO_CATALOG },
        policy: { policyDir: broken(), opaBinary: OPA_BIN },
        log: { level: 'silent' },
      });
      await expect(startResponder(config, { log: pino({ level: 'silent' }) })).rejects.toThrow(/does not compile:[\s\S]*extra\.rego:5/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is reported as missing OPA when the binary is not there', async () => {
    const missing = buildPolicyBundle({ opaBinary: join(scratch, 'no-such-opa'), policyDir: POLICY_DIR, outFile: join(scratch, 'none.tar.gz') });
    await expect(missing).rejects.toMatchObject({ code: 'opa_missing' });
    expect(existsSync(join(scratch, 'none.tar.gz'))).toBe(false);
  });
});

describe('the wasm gate over a bundle that misbehaves', () => {
  const build = async (rego: string) =>
    (await buildPolicyBundle({ opaBinary: OPA_BIN, policyDir: policyDirWith({ 'policy.rego': rego }), outFile: join(mkdtempSync(join(scratch, 'out-')), 'b.tar.gz') })).outFile;

  it('denies, naming the error, when evaluation fails', async () => {
    // Two complete definitions that both hold: OPA fails evaluation instead of choosing one.
    const bundleFile = await build(
      ['package responder.incident_response', '', 'decision := {"allow": true} if input.version == 1', 'decision := {"allow": false} if input.version == 1', ''].join('\n'),
    );
    const gate = await createOpaWasmGate({ bundleFile });
    const outcome = await gate.evaluate(policyInput());
    expect(outcome).toMatchObject({ kind: 'decided', evaluator: 'opa-wasm', decision: { allow: false, auto_execute: false, require_approval: true } });
    if (outcome.kind !== 'decided') return;
    expect(outcome.decision.deny).toHaveLength(1);
    expect(outcome.decision.deny[0]).toMatch(/^policy evaluation failed: .*conflict/);
    // The same module must keep answering after an aborted evaluation.
    expect((await gate.evaluate({ ...policyInput(), version: 2 as 1 })).kind).toBe('decided');
  });

  it('denies when the decision is undefined', async () => {
    const bundleFile = await build('package responder.incident_response\n\ndecision := {"allow": true} if input.never_sent == true\n');
    const outcome = await (await createOpaWasmGate({ bundleFile })).evaluate(policyInput());
    expect(outcome).toMatchObject({ kind: 'decided', decision: { allow: false, deny: [NO_DECISION_REASON] } });
  });

  it('refuses at load a bundle built for another entrypoint', async () => {
    const dir = policyDirWith({ 'policy.rego': 'package other\n\nanswer := 42\n' });
    const bundleFile = join(dir, 'other.tar.gz');
    await promisify(execFile)(OPA_BIN, ['build', '-t', 'wasm', '-e', 'other/answer', '-o', bundleFile, 'policy.rego'], { cwd: dir });
    await expect(createOpaWasmGate({ bundleFile })).rejects.toMatchObject({ code: 'policy_bundle_unreadable', message: expect.stringContaining(DECISION_ENTRYPOINT) });
  });
});
