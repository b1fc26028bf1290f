import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDecision, PolicyInput } from '../domain/decision.js';
import type { PolicyGate } from './policy-gate.js';

export interface PolicyInputOverrides {
  action?: Partial<PolicyInput['action']>;
  alert?: Partial<PolicyInput['alert']>;
  incident?: Partial<PolicyInput['incident']>;
  history?: Partial<PolicyInput['history']>;
}

/** A restart of a non-critical service under a warning, in approve mode: the policy's plain "yes, with a human". */
export function policyInput(overrides: PolicyInputOverrides = {}): PolicyInput {
  return {
    version: 1,
    action: {
      id: 'restart-service',
      type: 'restart',
      target: 'nginx',
      target_type: 'service',
      inputs: { service: 'nginx', host: 'web1' },
      targets: [
        { input: 'service', kind: 'service', value: 'nginx' },
        { input: 'host', kind: 'host', value: 'web1' },
      ],
      risk: 'medium',
      read_only: false,
      destructive: false,
      ...overrides.action,
    },
    alert: { name: 'NginxDown', severity: 'warning', instance: 'web1:9113', labels: { job: 'nginx' }, ...overrides.alert },
    incident: { id: 'incident-1', mode: 'approve', confidence: 0.9, dry_run: { ok: true, skipped: false }, ...overrides.incident },
    history: { target_remediations_last_hour: 0, ...overrides.history },
    requester: 'contract-suite',
  };
}

const APPROVE_MODE = 'approve mode: every change waits for a person';
const AUTO_NOT_ELIGIBLE = 'auto mode runs only low-risk, confident changes to non-critical targets';
const CRITICAL_ALERT = 'the alert is critical: a person decides';
const critical = (name: string) => `${name} is a critical service: two different people must approve`;

const WITH_ONE_APPROVAL: PolicyDecision = { allow: true, deny: [], require_approval: true, approvals_required: 1, auto_execute: false, reasons: [APPROVE_MODE] };
const WITHOUT_HUMANS: PolicyDecision = { allow: true, deny: [], require_approval: false, approvals_required: 0, auto_execute: true, reasons: [] };

function deniedWith(...deny: string[]): PolicyDecision {
  return { allow: false, deny, require_approval: true, approvals_required: 1, auto_execute: false, reasons: [APPROVE_MODE] };
}

function withTwoApprovers(...reasons: string[]): PolicyDecision {
  return { allow: true, deny: [], require_approval: true, approvals_required: 2, auto_execute: false, reasons };
}

export interface PolicyGateUnderTest {
  gate: PolicyGate;
  close(): Promise<void>;
}

/**
 * What every PolicyGate must answer for the default policy (policies/incident_response.rego), down
 * to the deny sentences humans read. Run against each implementation so they cannot drift apart.
 */
export function describePolicyGateContract(name: string, makeGate: () => Promise<PolicyGateUnderTest>): void {
  describe(`PolicyGate contract: ${name}`, () => {
    let subject: PolicyGateUnderTest | undefined;

    beforeAll(async () => {
      subject = await makeGate();
    });
    afterAll(async () => {
      await subject?.close();
    });

    async function decide(overrides: PolicyInputOverrides = {}): Promise<PolicyDecision> {
      if (!subject) throw new Error('gate was not created');
      const outcome = await subject.gate.evaluate(policyInput(overrides));
      if (outcome.kind !== 'decided') throw new Error(`${subject.gate.name} gave no decision: ${outcome.reason}`);
      // The evaluator is recorded with the decision; it must say which gate decided.
      expect(outcome.evaluator).toBe(subject.gate.name);
      return outcome.decision;
    }

    it('is ready once created', async () => {
      expect(await subject?.gate.ready()).toBe(true);
    });

    it('allows restarting a non-critical service with one approval', async () => {
      expect(await decide()).toEqual(WITH_ONE_APPROVAL);
    });

    it('asks two different people to restart a critical service, however its unit is spelled', async () => {
      expect(await decide({ action: { target: 'openbao' } })).toEqual(withTwoApprovers(APPROVE_MODE, critical('openbao')));
      expect(await decide({ action: { target: 'OpenBao.service' } })).toEqual(withTwoApprovers(APPROVE_MODE, critical('openbao')));
      expect(await decide({ action: { target: 'postgresql@16-main.service' } })).toEqual(withTwoApprovers(APPROVE_MODE, critical('postgresql')));
    });

    it('sees a critical service named by any target input, not only the primary one', async () => {
      const targets = [
        { input: 'host', kind: 'host' as const, value: 'web1' },
        { input: 'service', kind: 'service' as const, value: 'keycloak' },
      ];
      expect(await decide({ action: { target: 'web1', target_type: 'host', targets } })).toEqual(withTwoApprovers(APPROVE_MODE, critical('keycloak')));
    });

    it('asks a person, and never denies outright, when the alert is critical, however the severity is cased', async () => {
      expect(await decide({ alert: { severity: 'critical' } })).toEqual({ ...WITH_ONE_APPROVAL, reasons: [APPROVE_MODE, CRITICAL_ALERT] });
      expect((await decide({ alert: { severity: 'CRITICAL' } })).reasons).toContain(CRITICAL_ALERT);
    });

    it('rate-limits remediations per target per hour, but not read-only actions', async () => {
      expect(await decide({ history: { target_remediations_last_hour: 4 } })).toEqual(WITH_ONE_APPROVAL);
      expect(await decide({ history: { target_remediations_last_hour: 5 } })).toEqual(deniedWith('target nginx had 5 remediations in the last hour (limit 5)'));
      expect(await decide({ action: { type: 'inspect', read_only: true }, history: { target_remediations_last_hour: 7 } })).toEqual(WITHOUT_HUMANS);
    });

    it('denies when the dry-run failed, not when it was skipped', async () => {
      expect(await decide({ incident: { dry_run: { ok: false, skipped: false } } })).toEqual(deniedWith('dry run failed'));
      expect(await decide({ incident: { dry_run: { ok: false, skipped: true } } })).toEqual(WITH_ONE_APPROVAL);
    });

    it('never executes in diagnose-only mode', async () => {
      expect(await decide({ incident: { mode: 'diagnose-only' } })).toEqual({ ...deniedWith('diagnose-only mode never executes'), reasons: [] });
    });

    it('lists every reason, sorted, when several rules deny', async () => {
      const decision = await decide({ action: { target: 'vm-7', target_type: 'vm', type: 'rollback', destructive: true }, incident: { mode: 'diagnose-only', dry_run: { ok: false, skipped: false } } });
      expect(decision.allow).toBe(false);
      expect(decision.deny).toEqual(['destructive action rollback on vm vm-7 is not allowed', 'diagnose-only mode never executes', 'dry run failed']);
    });

    it('auto mode runs a low-risk, confident action with no human', async () => {
      expect(await decide({ action: { risk: 'low' }, incident: { mode: 'auto', confidence: 0.8 } })).toEqual(WITHOUT_HUMANS);
    });

    it('auto mode still asks a human below the confidence threshold or above low risk', async () => {
      const waits = { ...WITH_ONE_APPROVAL, reasons: [AUTO_NOT_ELIGIBLE] };
      expect(await decide({ action: { risk: 'low' }, incident: { mode: 'auto', confidence: 0.79 } })).toEqual(waits);
      expect(await decide({ action: { risk: 'medium' }, incident: { mode: 'auto', confidence: 0.95 } })).toEqual(waits);
    });

    it('an allowed change to a critical service needs two approvers, even in auto mode', async () => {
      expect(await decide({ action: { type: 'scale', target: 'keycloak', risk: 'low' }, incident: { mode: 'auto', confidence: 0.99 } })).toEqual(
        withTwoApprovers(AUTO_NOT_ELIGIBLE, critical('keycloak')),
      );
    });

    it('a read-only action needs nobody, but a state-changing type cannot claim to be read-only', async () => {
      expect(await decide({ action: { id: 'check-disk', type: 'inspect', read_only: true, risk: 'low' } })).toEqual(WITHOUT_HUMANS);
      expect(await decide({ action: { read_only: true } })).toEqual(WITH_ONE_APPROVAL);
    });

    it('denies an action type it does not know, and destructive actions on VMs', async () => {
      expect(await decide({ action: { type: 'format-disk' } })).toEqual(deniedWith('action type format-disk is not permitted by policy'));
      expect(await decide({ action: { type: 'rollback', target: 'vm-7', target_type: 'vm', destructive: true } })).toEqual(
        deniedWith('destructive action rollback on vm vm-7 is not allowed'),
      );
    });
  });
}
