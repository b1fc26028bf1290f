import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { makeDataDir, startTestResponder } from '../support/responder-harness.js';

// Its own file: DBOS runs one service per process, and this test restarts one on the same data dir.
let scratch: string;
let service: PidfileService;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-older-release-'));
  service = startPidfileService(scratch);
});

afterAll(() => {
  service.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('an upgrade while an incident waits for approval', () => {
  it('the incident an older release was handling fails visibly, its request is closed, and a decision on it is refused', async () => {
    const dataDir = makeDataDir();
    const routes = [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' as const }];
    const older = await startTestResponder({ routes }, dataDir, { workflowVersion: 'respond-to-incident/0' });
    let id: string;
    try {
      const alert = {
        labels: { alertname: 'ServiceWedged', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost' },
        annotations: { summary: 'demo-service is wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command },
      };
      const response = await older.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
      id = ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
      const waiting = await older.waitFor(id, (r) => r.state !== 'received' && r.state !== 'investigating' && r.state !== 'proposed');
      expect(waiting.state, waiting.stateReason ?? '').toBe('awaiting_approval');
    } finally {
      await older.stop();
    }

    const upgraded = await startTestResponder({ routes }, dataDir);
    try {
      const record = await upgraded.record(id);
      expect(record.state).toBe('failed');
      expect(record.stateReason).toMatch(/started by a release with workflow respond-to-incident\/0, which this release cannot resume/);
      expect(record.approvalRequests.every((r) => r.state !== 'open')).toBe(true);
      const decision = await upgraded.approve(id);
      expect(decision.status).toBe(409);
      expect(record.runs.filter((r) => r.kind === 'execute')).toEqual([]);
    } finally {
      await upgraded.cleanup();
    }
  });
});
