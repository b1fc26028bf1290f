import { describe, expect, it } from 'vitest';
import type { PolicyDecision, PolicyInput } from '../domain/decision.js';
import type { PolicyGate } from './policy-gate.js';

export type PolicyInputOverrides = {
  action?: Partial<PolicyInput['action']>;
  alert?: Partial<PolicyInput['alert']>;
  incident?: Partial<PolicyInput['incident']>;
  history?: Partial<PolicyInput['history']>;
};

export function policyInput(overrides: PolicyInputOverrides = {}): PolicyInput {
  return {
    version: 1,
    action: { id: 'restart-service', type: 'restart', target: 'nginx', target_type: 'service', inputs: { service: 'nginx', host: 'web1' }, risk: 'medium', read_only: false, destructive: false, ...overrides.action },
    alert: { name: 'NginxDown', severity: 'warning', instance: 'web1:9113', labels: { job: 'nginx' }, ...overrides.alert },
    incident: { id: 'incident-1', mode: 'approve', confidence: 0.9, dry_run: { ok: true, skipped: false }, ...overrides.incident },
    history: { target_remediations_last_hour: 0, ...overrides.history },
    requester: 'contract-suite',
  };
}

/**
 * What every PolicyGate must answer for the default policy. Run against each implementation
 * (in-process wasm, REST on a real OPA) so they cannot drift apart.
 */
export function describePolicyGateContract(name: string, makeGate: () => Promise<{ gate: PolicyGate; close(): Promise<void> }>): void {
  describe(`PolicyGate contract: ${name}`, () => {
    async function decide(overrides: PolicyInputOverrides): Promise<PolicyDecision> {
      const { gate, close } = await makeGate();
      try {
        const outcome = await gate.evaluate(policyInput(overrides));
        if (outcome.kind !== 'decided') throw new Error(`no decision: ${outcome.reason}`);
        expect(outcome.evaluator).toBe(gate.name);
        return outcome.decision;
      } finally {
        await close();
      }
    }

    it('allows restarting a non-critical service with one approval', async () => {
      expect(await decide({})).toEqual({ allow: true, deny: [], require_approval: true, approvals_required: 1, auto_execute: false });
    });

    it('denies restarting a critical service, however its unit is spelled', async () => {
      for (const target of ['openbao', 'OpenBao.service', 'postgresql@16-main.service']) {
        const decision = await decide({ action: { target } });
        expect(decision.allow).toBe(false);
        expect(decision.deny.some((reason) => /^restart of critical service (openbao|postgresql) requires manual handling$/.test(reason))).toBe(true);
      }
    });

    it('denies a restart while the alert is critical', async () => {
      expect((await decide({ alert: { severity: 'critical' } })).deny).toEqual(['restart is not allowed while severity is critical']);
    });

    it('rate-limits remediations per target per hour', async () => {
      expect((await decide({ history: { target_remediations_last_hour: 4 } })).allow).toBe(true);
      expect((await decide({ history: { target_remediations_last_hour: 5 } })).deny).toEqual(['target nginx had 5 remediations in the last hour (limit 5)']);
    });

    it('denies when the dry-run failed, not when it was skipped', async () => {
      expect((await decide({ incident: { dry_run: { ok: false, skipped: false } } })).deny).toEqual(['dry run failed']);
      expect((await decide({ incident: { dry_run: { ok: false, skipped: true } } })).allow).toBe(true);
    });

    it('never executes in diagnose-only mode', async () => {
      expect((await decide({ incident: { mode: 'diagnose-only' } })).deny).toEqual(['diagnose-only mode never executes']);
    });

    it('auto mode runs a low-risk, confident action with no human', async () => {
      expect(await decide({ action: { risk: 'low' }, incident: { mode: 'auto', confidence: 0.85 } })).toEqual({
        allow: true,
        deny: [],
        require_approval: false,
        approvals_required: 0,
        auto_execute: true,
      });
    });

    it('auto mode still asks a human below the confidence threshold or for medium risk', async () => {
      expect((await decide({ action: { risk: 'low' }, incident: { mode: 'auto', confidence: 0.79 } })).auto_execute).toBe(false);
      expect((await decide({ action: { risk: 'medium' }, incident: { mode: 'auto', confidence: 0.95 } })).auto_execute).toBe(false);
    });

    it('a change to a critical service that is allowed needs two approvers, even in auto mode', async () => {
      const decision = await decide({ action: { type: 'scale', target: 'keycloak', risk: 'low' }, incident: { mode: 'auto' } });
      expect(decision).toMatchObject({ allow: true, require_approval: true, approvals_required: 2, auto_execute: false });
    });

    it('a read-only action needs nobody', async () => {
      expect(await decide({ action: { type: 'read', read_only: true } })).toEqual({ allow: true, deny: [], require_approval: false, approvals_required: 0, auto_execute: true });
    });

    it('denies an action type it does not know, and destructive actions on VMs', async () => {
      expect((await decide({ action: { type: 'format-disk' } })).deny).toEqual(['action type format-disk is not permitted by policy']);
      expect((await decide({ action: { type: 'rollback', target: 'vm-7', target_type: 'vm', destructive: true } })).deny).toEqual(['destructive action rollback on vm vm-7 is not allowed']);
    });
  });
}
