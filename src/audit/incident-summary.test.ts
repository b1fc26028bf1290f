import { describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../domain/incident-record.js';
import { isFinalStateEvent, summarizeIncident } from './incident-summary.js';

const INCIDENT = '5b0b3a52-7c1e-4d2a-9f43-0c8a3b6f1e10';
const REQUEST = '0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';

function record(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id: INCIDENT,
    fingerprint: 'f1',
    state: 'resolved',
    stateReason: 'the alert condition cleared after the remediation',
    route: 'agentic',
    mode: 'approve',
    alertName: 'ServiceDown',
    severity: 'critical',
    instance: 'web1:9100',
    createdAt: '2026-11-28T06:00:00.000Z',
    updatedAt: '2026-11-28T06:05:00.000Z',
    source: 'alertmanager',
    labels: {},
    annotations: {},
    expression: null,
    evidence: [],
    proposal: { diagnosis: 'nginx is wedged', evidence: [], action: { id: 'restart-service', inputs: { host: 'web1', service: 'nginx' } }, risk: 'low', confidence: 0.8, source: 'runbook' },
    dryRun: null,
    decision: null,
    verification: { outcome: 'cleared', checks: 2, elapsedMs: 2000 },
    alerts: [],
    approvalRequests: [],
    approvals: [],
    runs: [{ id: `${INCIDENT}:execute`, kind: 'execute', actionId: 'restart-service', target: 'web1', inputs: {}, state: 'succeeded', failure: null, exitCode: 0, output: '', outputs: null, cancelledBy: null, startedAt: '', finishedAt: '' }],
    investigation: null,
    audit: [],
    ...overrides,
  };
}

const request = (state: 'approved' | 'rejected' | 'expired', decisions: { approver: string; approved: boolean; reason: string }[]) => ({
  id: REQUEST,
  incidentId: INCIDENT,
  round: 1,
  actionId: 'restart-service',
  inputs: {},
  risk: 'low' as const,
  proposalHash: 'h',
  approvalsRequired: 1,
  policyReasons: [],
  deadline: '',
  state,
  stateReason: state === 'expired' ? 'no decision in time' : null,
  modifications: null,
  modifiedBy: null,
  createdAt: '',
  decidedAt: null,
  decisions: decisions.map((d) => ({ ...d, requestId: REQUEST, modifications: null, channel: 'api' as const, createdAt: '' })),
});

describe('summarizeIncident', () => {
  it("carries the seed's INCIDENT_AUDIT fields and what happened after", () => {
    const summary = summarizeIncident(record({ approvalRequests: [request('approved', [{ approver: 'alice', approved: true, reason: 'looks right' }])] }));
    expect(summary).toMatchObject({
      record: 'INCIDENT_AUDIT',
      incident_id: INCIDENT,
      alert: 'ServiceDown',
      instance: 'web1:9100',
      diagnosis: 'nginx is wedged',
      proposed_action: 'restart-service',
      proposed_inputs: { host: 'web1', service: 'nginx' },
      approved: true,
      approvers: ['alice'],
      reason: 'looks right',
      remediation_status: 'succeeded',
      state: 'resolved',
      verification: 'cleared',
    });
  });

  it('says who rejected and why, and that nothing ran', () => {
    const summary = summarizeIncident(record({ state: 'rejected', runs: [], verification: null, approvalRequests: [request('rejected', [{ approver: 'bob', approved: false, reason: 'not during the release' }])] }));
    expect(summary).toMatchObject({ approved: false, approvers: [], reason: 'not during the release', remediation_status: 'not run' });
  });

  it('names policy as the approver of an automatic execution, and null when nobody was asked', () => {
    const auto = record({
      audit: [{ id: 1, seq: 1, incidentId: INCIDENT, at: '', actor: 'policy', kind: 'incident.state', data: { from: 'proposed', to: 'approved', reason: 'policy allows automatic execution' }, prevHash: null, hash: null }],
    });
    expect(summarizeIncident(auto)).toMatchObject({ approved: true, approvers: ['policy'], reason: 'policy allows automatic execution' });
    expect(summarizeIncident(record({ state: 'diagnosed', runs: [] }))).toMatchObject({ approved: null, reason: null, remediation_status: 'not run' });
  });
});

describe('isFinalStateEvent', () => {
  it('is a transition into a final state', () => {
    expect(isFinalStateEvent({ kind: 'incident.state', data: { to: 'resolved' } })).toBe(true);
    expect(isFinalStateEvent({ kind: 'incident.state', data: { to: 'diagnosed' } })).toBe(true);
    expect(isFinalStateEvent({ kind: 'incident.state', data: { to: 'executing' } })).toBe(false);
    expect(isFinalStateEvent({ kind: 'run.finished', data: { to: 'resolved' } })).toBe(false);
  });
});
