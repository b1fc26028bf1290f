import { createServer, type Server } from 'node:http';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDecision, PolicyOutcome } from '../../src/domain/decision.js';
import { policyInput } from '../../src/policy/policy-gate.contract.js';
import { createOpaRestGate } from '../../src/policy/opa-rest-gate.js';
import { NO_DECISION_REASON } from '../../src/policy/policy-gate.js';
import { freePort } from '../../src/eval/free-port.js';
import { POLICY_DIR, startOpaServer, type OpaServer } from '../support/opa-server.js';

const DECISION_PATH = 'responder/incident_response/decision';

function decisionOf(outcome: PolicyOutcome): PolicyDecision {
  if (outcome.kind !== 'decided') throw new Error(`expected a decision, got unavailable: ${outcome.reason}`);
  return outcome.decision;
}

const withApproval = (approvals: number, reasons: string[] = []): PolicyDecision => ({
  allow: true,
  deny: [],
  require_approval: true,
  approvals_required: approvals,
  auto_execute: false,
  reasons,
});

const deniedWith = (...deny: string[]) => expect.objectContaining({ allow: false, auto_execute: false, deny });

describe('OPA REST gate against a real OPA with the shipped policy', () => {
  let opa: OpaServer;
  let gate: ReturnType<typeof createOpaRestGate>;

  beforeAll(async () => {
    opa = await startOpaServer({ policyDir: POLICY_DIR });
    gate = createOpaRestGate({ url: opa.url, decisionPath: DECISION_PATH, timeoutMs: 2000 });
  });
  afterAll(() => opa?.stop());

  it('is named and ready', async () => {
    expect(gate.name).toBe('opa-rest');
    expect(await gate.ready()).toBe(true);
  });

  it('allows a restart of a non-critical service with one approval, naming the evaluator', async () => {
    const outcome = await gate.evaluate(policyInput());
    expect(outcome).toEqual({ kind: 'decided', decision: withApproval(1, ['approve mode: every change waits for a person']), evaluator: 'opa-rest', revision: null });
  });

  // What the shipped policy decides for each case is the contract suite's (policy-gate-contract.test.ts runs it on this gate).

  it('denies when the decision path names no rule', async () => {
    const wrongPath = createOpaRestGate({ url: opa.url, decisionPath: 'responder/incident_response/no_such_rule', timeoutMs: 2000 });
    expect(decisionOf(await wrongPath.evaluate(policyInput()))).toEqual(deniedWith(NO_DECISION_REASON));
  });

  it('reports OPA as unavailable once it has stopped', async () => {
    const own = await startOpaServer({ policyDir: POLICY_DIR });
    const ownGate = createOpaRestGate({ url: own.url, decisionPath: DECISION_PATH, timeoutMs: 2000 });
    expect((await ownGate.evaluate(policyInput())).kind).toBe('decided');
    await own.stop();
    expect(await ownGate.evaluate(policyInput())).toEqual({
      kind: 'unavailable',
      reason: `OPA at ${own.url} unreachable: ECONNREFUSED`,
    });
    expect(await ownGate.ready()).toBe(false);
  });
});

describe('OPA REST gate against policies that misbehave', () => {
  let dir: string;
  let opa: OpaServer;
  const gateFor = (rule: string) => createOpaRestGate({ url: opa.url, decisionPath: `broken/${rule}`, timeoutMs: 2000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'responder-broken-policy-'));
    await writeFile(
      join(dir, 'broken.rego'),
      [
        'package broken',
        '',
        '# Defined only for input the gate never sends, so OPA answers {}.',
        'yields_nothing := {"allow": true} if input.never_sent == true',
        '',
        'malformed := {"allow": "yes", "deny": "no reason", "approvals_required": -1}',
        '',
        'allows_with_reasons := {"allow": true, "deny": ["contradiction"], "require_approval": false, "auto_execute": true}',
        '',
        'auto_without_consent := {"allow": true, "require_approval": true, "auto_execute": true}',
        '',
        '# Two complete definitions that both hold: OPA fails evaluation with HTTP 500.',
        'conflicting := {"allow": true} if input.version == 1',
        'conflicting := {"allow": false} if input.version == 1',
        '',
      ].join('\n'),
    );
    opa = await startOpaServer({ policyDir: dir });
  });
  afterAll(async () => {
    await opa?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an undefined rule as deny', async () => {
    const outcome = await gateFor('yields_nothing').evaluate(policyInput());
    expect(outcome).toEqual({
      kind: 'decided',
      decision: { allow: false, deny: [NO_DECISION_REASON], require_approval: true, approvals_required: 1, auto_execute: false, reasons: [] },
      evaluator: 'opa-rest',
      revision: null,
    });
  });

  it('reads a malformed decision as deny and names each problem', async () => {
    const decision = decisionOf(await gateFor('malformed').evaluate(policyInput()));
    expect(decision.allow).toBe(false);
    expect(decision.auto_execute).toBe(false);
    expect(decision.deny).toHaveLength(1);
    expect(decision.deny[0]).toMatch(/^policy returned a malformed decision \(/);
    expect(decision.deny[0]).toContain('allow: Expected boolean, received string');
    expect(decision.deny[0]).toContain('deny: Expected array, received string');
    expect(decision.deny[0]).toContain('approvals_required:');
  });

  it('lets deny reasons win over an allow', async () => {
    const decision = decisionOf(await gateFor('allows_with_reasons').evaluate(policyInput()));
    expect(decision).toEqual(expect.objectContaining({ allow: false, auto_execute: false, deny: ['contradiction'] }));
  });

  it('does not auto-execute what still requires approval', async () => {
    const decision = decisionOf(await gateFor('auto_without_consent').evaluate(policyInput()));
    expect(decision).toEqual(withApproval(1));
  });

  it('reports an evaluation error as unavailable with OPA’s message', async () => {
    const outcome = await gateFor('conflicting').evaluate(policyInput());
    expect(outcome.kind).toBe('unavailable');
    if (outcome.kind === 'unavailable') {
      expect(outcome.reason).toContain(`OPA at ${opa.url} answered HTTP 500: internal_error: `);
      expect(outcome.reason).toContain('eval_conflict_error: rule data.broken.conflicting produced conflicting values');
    }
  });
});

describe('OPA REST gate revision', () => {
  it('names the bundle revision when policy is loaded as a bundle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'responder-policy-bundle-'));
    let opa: OpaServer | undefined;
    try {
      await cp(join(POLICY_DIR, 'incident_response.rego'), join(dir, 'incident_response.rego'));
      await writeFile(join(dir, '.manifest'), JSON.stringify({ revision: 'policy-rev-7', roots: ['responder'] }));
      opa = await startOpaServer({ policyDir: dir, bundle: true });
      const gate = createOpaRestGate({ url: `${opa.url}/`, decisionPath: `/${DECISION_PATH}/`, timeoutMs: 2000 });
      const outcome = await gate.evaluate(policyInput());
      expect(outcome).toEqual({ kind: 'decided', decision: withApproval(1, ['approve mode: every change waits for a person']), evaluator: 'opa-rest', revision: 'policy-rev-7' });
    } finally {
      await opa?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('OPA REST gate when OPA cannot answer', () => {
  it('reports a closed port as unreachable', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const gate = createOpaRestGate({ url, decisionPath: DECISION_PATH, timeoutMs: 1000 });
    expect(await gate.evaluate(policyInput())).toEqual({ kind: 'unavailable', reason: `OPA at ${url} unreachable: ECONNREFUSED` });
    expect(await gate.ready()).toBe(false);
  });

  describe('with a stand-in server', () => {
    let server: Server;
    let url: string;
    let respond: (res: import('node:http').ServerResponse) => void;

    beforeAll(async () => {
      server = createServer((_req, res) => respond(res));
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      url = `http://127.0.0.1:${address.port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    });

    it('gives up after the timeout on a server that never answers', async () => {
      respond = () => undefined;
      const gate = createOpaRestGate({ url, decisionPath: DECISION_PATH, timeoutMs: 200 });
      const started = Date.now();
      expect(await gate.evaluate(policyInput())).toEqual({ kind: 'unavailable', reason: `OPA at ${url} did not answer within 200 ms` });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await gate.ready()).toBe(false);
    });

    it('gives up after the timeout on a server that stalls mid-body', async () => {
      respond = (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"result": {"allow": tr');
      };
      const gate = createOpaRestGate({ url, decisionPath: DECISION_PATH, timeoutMs: 200 });
      expect(await gate.evaluate(policyInput())).toEqual({ kind: 'unavailable', reason: `OPA at ${url} did not answer within 200 ms` });
    });

    it('reports a non-2xx answer as unavailable with its body', async () => {
      respond = (res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream down');
      const gate = createOpaRestGate({ url, decisionPath: DECISION_PATH, timeoutMs: 1000 });
      expect(await gate.evaluate(policyInput())).toEqual({ kind: 'unavailable', reason: `OPA at ${url} answered HTTP 503: upstream down` });
    });

    it('denies on a 2xx answer that is not JSON', async () => {
      respond = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      const gate = createOpaRestGate({ url, decisionPath: DECISION_PATH, timeoutMs: 1000 });
      expect(decisionOf(await gate.evaluate(policyInput()))).toEqual(deniedWith(`OPA at ${url} answered with a body that is not JSON`));
    });
  });
});
