import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../domain/approval.js';
import type { Incident } from '../../domain/incident-record.js';
import { renderApprovalCard, threadLine } from './approval-card.js';

const incident = {
  id: '11111111-1111-4111-8111-111111111111',
  alertName: 'DiskFull <img src=x onerror=alert(1)>',
  instance: 'web1',
  severity: 'critical',
  labels: { alertname: 'DiskFull', team: '@room' },
  annotations: { summary: 'see https://evil.example/"><a href="https://evil.example">' },
  evidence: [{ source: 'prometheus', kind: 'metric', summary: 'disk 97% full' }],
  proposal: { diagnosis: 'logs filled /var', evidence: [], action: null, risk: 'low', confidence: 0.8, source: 'agent' },
  dryRun: { ok: true, skipped: false, runId: 'r', exitCode: 0, output: 'changed: [web1]\nok=1 changed=1' },
} as unknown as Incident;
const request = {
  id: '22222222-2222-4222-8222-222222222222',
  incidentId: incident.id,
  round: 2,
  actionId: 'clean-logs',
  inputs: { host: 'web1' },
  risk: 'medium',
  approvalsRequired: 2,
  policyReasons: ['critical service: two people'],
  deadline: '2026-12-06T11:30:00.000Z',
  state: 'open',
  decisions: [{ requestId: null, approver: 'alice', approved: true, reason: 'ok', modifications: null, channel: 'web', createdAt: '' }],
} as unknown as ApprovalRequest;

describe('the approval card', () => {
  const card = renderApprovalCard(incident, request, { publicUrl: 'https://responder.example.org/' });

  it('says what was found and proposed, who decided, how to answer, and links the incident page', () => {
    expect(card.body).toContain('Incident 11111111-1111-4111-8111-111111111111 · request 22222222 (round 2)');
    expect(card.body).toContain('Diagnosis: logs filled /var');
    expect(card.body).toContain('Proposed fix: clean-logs {"host":"web1"}');
    expect(card.body).toContain("Risk: medium (the catalog's)");
    expect(card.body).toContain('Dry run: ok: changed: [web1] | ok=1 changed=1');
    expect(card.body).toContain('Policy: critical service: two people');
    expect(card.body).toContain('Approvals: 1 of 2 needed — alice ✅ (web)');
    expect(card.body).toContain('Deadline: 2026-12-06 11:30:00Z');
    expect(card.body).toContain('!approve 22222222 [reason] · !reject 22222222 <reason> · !status 22222222');
    expect(card.body).toContain('Incident page: https://responder.example.org/incidents/11111111-1111-4111-8111-111111111111');
  });

  it('shows alert text as text: escaped in HTML, the incident page its only link, no ping', () => {
    expect(card.formatted_body).not.toMatch(/<img|<a href="https:\/\/evil/);
    expect(card.formatted_body!.match(/<a /g)).toHaveLength(1);
    expect(card.formatted_body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(card.body).not.toContain('@room');
    expect(card['m.mentions']).toEqual({});
  });

  it('mentions only the people config names, and nobody a reason names', () => {
    const line = threadLine('rejected by eve: @room look', { mentions: ['@oncall:example.org'] });
    expect(line['m.mentions']).toEqual({ user_ids: ['@oncall:example.org'] });
    expect(line.body).toBe('@oncall:example.org: rejected by eve: @\u2060room look');
  });
});
