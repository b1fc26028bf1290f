import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createOpaRestGate } from '../../src/policy/opa-rest-gate.js';
import { createOpaWasmGate } from '../../src/policy/opa-wasm-gate.js';
import { describePolicyGateContract } from '../../src/policy/policy-gate.contract.js';
import { POLICY_DIR, startOpaServer, type OpaServer } from '../support/opa-server.js';
import { REPO } from '../support/responder-harness.js';

let opa: OpaServer;
beforeAll(async () => {
  opa = await startOpaServer({ policyDir: POLICY_DIR });
});
afterAll(async () => opa?.stop());

describePolicyGateContract('in-process wasm bundle', async () => ({
  gate: await createOpaWasmGate({ bundleFile: join(REPO, 'policy-bundle/incident_response.tar.gz') }),
  close: async () => {},
}));

describePolicyGateContract('REST on a real opa run -s', async () => ({
  gate: createOpaRestGate({ url: opa.url, decisionPath: 'responder/incident_response/decision', timeoutMs: 5000 }),
  close: async () => {},
}));
