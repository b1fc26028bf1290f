import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { resolveShippedPath, resolveTool } from '../config/package-paths.js';
import { PolicyError } from '../domain/errors.js';
import { buildPolicyBundle, policySourceRevision, readBundleRevision } from './build-policy-bundle.js';
import { startLocalOpaServer } from './local-opa-server.js';
import { createOpaRestGate } from './opa-rest-gate.js';
import { createOpaWasmGate } from './opa-wasm-gate.js';
import type { PolicyGate } from './policy-gate.js';

export interface ConfiguredPolicyGate {
  gate: PolicyGate;
  /** What /readyz and logs name: a URL or a bundle file. */
  describe: string;
  stop(): Promise<void>;
}

export function effectiveEvaluator(policy: Config['policy']): 'wasm' | 'rest' {
  return policy.evaluator ?? (policy.url ? 'rest' : 'wasm');
}

/**
 * The bundle to evaluate in-process: the configured one when it was built from the current
 * sources, else a fresh build under dataDir. Sources that do not compile stop start-up with
 * OPA's file:line message; stale sources without an OPA to rebuild them stop it too.
 */
async function currentBundle(config: Config, log: Logger): Promise<string> {
  const bundleFile = resolveShippedPath(config.policy.bundleFile);
  const policyDir = resolveShippedPath(config.policy.policyDir);
  if (!existsSync(policyDir)) {
    if (existsSync(bundleFile)) return bundleFile;
    throw new PolicyError('policy_missing', `neither policy.policyDir ${policyDir} nor policy.bundleFile ${bundleFile} exists`);
  }
  const wanted = policySourceRevision(policyDir);
  if (existsSync(bundleFile) && (await readBundleRevision(bundleFile)) === wanted) return bundleFile;
  const rebuilt = join(resolve(config.dataDir), 'policy-bundle', 'incident_response.tar.gz');
  if (existsSync(rebuilt) && (await readBundleRevision(rebuilt)) === wanted) return rebuilt;
  const opaBinary = resolveTool(config.policy.opaBinary);
  log.info({ policyDir, revision: wanted }, 'policy sources differ from the built bundle; rebuilding');
  mkdirSync(join(resolve(config.dataDir), 'policy-bundle'), { recursive: true });
  try {
    await buildPolicyBundle({ opaBinary, policyDir, outFile: rebuilt });
  } catch (error) {
    if (error instanceof PolicyError && error.code === 'opa_missing') {
      throw new PolicyError(
        'policy_stale',
        `the policy bundle ${bundleFile} was not built from ${policyDir} and no OPA binary (${opaBinary}) is available to rebuild it; run \`responder policy build\` where OPA is installed`,
      );
    }
    throw error;
  }
  return rebuilt;
}

export async function createConfiguredPolicyGate(config: Config, log: Logger): Promise<ConfiguredPolicyGate> {
  const policy = config.policy;
  if (effectiveEvaluator(policy) === 'wasm') {
    const bundleFile = await currentBundle(config, log);
    const gate = await createOpaWasmGate({ bundleFile });
    return { gate, describe: `in-process wasm bundle ${bundleFile}`, stop: async () => {} };
  }
  if (policy.url) {
    return { gate: createOpaRestGate({ url: policy.url, decisionPath: policy.decisionPath, timeoutMs: policy.timeoutMs }), describe: `OPA at ${policy.url}`, stop: async () => {} };
  }
  const opa = await startLocalOpaServer({ binary: resolveTool(policy.opaBinary), policyDir: resolveShippedPath(policy.policyDir) });
  return {
    gate: createOpaRestGate({ url: opa.url, decisionPath: policy.decisionPath, timeoutMs: policy.timeoutMs }),
    describe: `local OPA at ${opa.url}`,
    stop: () => opa.stop(),
  };
}
