import { describe, expect, it } from 'vitest';
import { alertmanagerPayload, uniqueFingerprint } from '../support/alert-payloads.js';
import { makeDataDir, startTestResponder } from '../support/responder-harness.js';

// Its own file: DBOS runs one service per process, and this test restarts one on the same data dir.
describe('routes changed while an alert fires', () => {
  it('an incident stored unrouted is routed and acted on when the alert is sent again after a route was added', async () => {
    const dataDir = makeDataDir();
    const alert = { labels: { alertname: 'RoutedLater', team: 'storage' }, fingerprint: uniqueFingerprint() };
    const before = await startTestResponder({ routes: [] }, dataDir);
    let id: string;
    try {
      const first = await before.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
      id = ((await first.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
      expect((await before.record(id)).stateReason).toMatch(/no route matched/);
    } finally {
      await before.stop();
    }
    // The operator adds a route and restarts; Alertmanager repeats the same notification.
    const after = await startTestResponder({ routes: [{ name: 'storage', matchers: ['team="storage"'], mode: 'diagnose-only' }] }, dataDir);
    try {
      const again = await after.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
      expect(again.status).toBe(202);
      expect(((await again.json()) as { incidents: { id: string }[] }).incidents[0]!.id).toBe(id);
      const record = await after.waitFor(id, (r) => r.state === 'diagnosed');
      expect(record.route).toBe('storage');
      expect(record.mode).toBe('diagnose-only');
      const routed = record.audit.find((e) => e.kind === 'incident.routed');
      expect(routed?.data).toMatchObject({ route: 'storage', mode: 'diagnose-only' });
      expect(String(routed?.data.reason)).toMatch(/later notification matched/);
      // A third copy changes nothing: the incident is routed and has moved on.
      await after.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
      expect((await after.record(id)).audit.filter((e) => e.kind === 'incident.routed')).toHaveLength(1);
    } finally {
      await after.cleanup();
    }
  });
});
