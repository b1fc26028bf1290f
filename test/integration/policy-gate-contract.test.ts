import { join } from 'node:path';
import { DECISION_ENTRYPOINT } from '../../src/policy/build-policy-bundle.js';
import { createOpaRestGate } from '../../src/policy/opa-rest-gate.js';
import { createOpaWasmGate } from '../../src/policy/opa-wasm-gate.js';
import { describePolicyGateContract } from '../../src/policy/policy-gate.contract.js';
import { POLICY_DIR, REPO_ROOT, startOpaServer } from '../support/opa-server.js';

const COMMITTED_BUNDLE = join(REPO_ROOT, 'policy-bundle', 'incident_response.tar.gz');

describePolicyGateContract('in-process wasm over the committed bundle', async () => ({
  gate: await createOpaWasmGate({ bundleFile: COMMITTED_BUNDLE }),
  close: async () => {},
}));

describePolicyGateContract('REST on a real opa run -s over policies/', async () => {
  const opa = await startOpaServer({ policyDir: POLICY_DIR });
  return {
    gate: createOpaRestGate({ url: opa.url, decisionPath: DECISION_ENTRYPOINT, timeoutMs: 5000 }),
    close: () => opa.stop(),
  };
});
