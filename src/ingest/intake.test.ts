import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RouteSchema } from '../config/config.schema.js';
import type { IntakeResult, RoutedNotification } from '../domain/incident.js';
import { acceptNotification, parseWebhook, type IntakeDeps } from './intake.js';

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'alertmanager', '__fixtures__', name), 'utf8')) as Record<string, unknown>;

describe('parseWebhook with text PostgreSQL cannot store', () => {
  it('turns NUL and lone surrogates in label values, label keys and annotations into U+FFFD before validating', () => {
    const body = fixture('alertmanager-firing.json') as { alerts: { labels: Record<string, string>; annotations: Record<string, string> }[] };
    body.alerts[0]!.labels = { alertname: 'Cpu\u0000', 'team\ud800': 'platform', instance: '\udc00web-1' };
    body.alerts[0]!.annotations = { summary: 'a\u0000b', 'x\u0000': '\ud83d' };
    const parsed = parseWebhook('alertmanager', body);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const alert = parsed.notification.alerts[0]!;
    expect(alert.labels).toEqual({ alertname: 'Cpu\uFFFD', 'team\uFFFD': 'platform', instance: '\uFFFDweb-1' });
    expect(alert.annotations).toEqual({ summary: 'a\uFFFDb', 'x\uFFFD': '\uFFFD' });
    expect(alert.name).toBe('Cpu\uFFFD');
    expect(alert.instance).toBe('\uFFFDweb-1');
    expect(JSON.stringify(parsed.notification)).not.toMatch(/\\u(0000|d[89a-f][0-9a-f]{2})/i);
  });

  it('still refuses what is not a webhook, and names the field', () => {
    const parsed = parseWebhook('alertmanager', { ...fixture('alertmanager-firing.json'), version: '3\u0000' });
    expect(parsed).toMatchObject({ ok: false, errors: [{ path: 'version' }] });
  });
});

describe('acceptNotification', () => {
  const routes = [RouteSchema.parse({ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' })];

  function deps(answer: (delivery: RoutedNotification) => IntakeResult[]) {
    const recorded: RoutedNotification[] = [];
    const started: string[] = [];
    const closed: string[] = [];
    const intake: IntakeDeps = {
      notifications: {
        async record(delivery) {
          recorded.push(delivery);
          return answer(delivery);
        },
      },
      routes,
      startWorkflow: async (id) => void started.push(id),
      notifyClosed: async (id) => void closed.push(id),
      onWorkflowStartError: () => {},
    };
    return { intake, recorded, started, closed };
  }

  it('routes each alert before storing, and stores the whole delivery in one call', async () => {
    const parsed = parseWebhook('alertmanager', fixture('alertmanager-firing.json'));
    if (!parsed.ok) throw new Error('fixture');
    const notification = {
      ...parsed.notification,
      alerts: parsed.notification.alerts.map((alert, i) => ({ ...alert, labels: { ...alert.labels, agentic: i === 0 ? 'true' : 'false' } })),
    };
    const { intake, recorded } = deps((d) => d.alerts.map((a) => ({ id: randomUUID(), fingerprint: a.fingerprint, state: 'received', startWorkflow: a.route !== null })));
    await acceptNotification(intake, notification);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.alerts.map((a) => a.route)).toEqual(notification.alerts.map((_, i) => (i === 0 ? { route: 'agentic', mode: 'approve' } : null)));
    expect(recorded[0]!.receiver).toBe(notification.receiver);
  });

  it('starts a workflow for each incident the delivery opened and tells closed ones they closed', async () => {
    const parsed = parseWebhook('alertmanager', fixture('alertmanager-firing.json'));
    if (!parsed.ok) throw new Error('fixture');
    const opened = randomUUID();
    const resolved = randomUUID();
    const { intake, started, closed } = deps((d) => [
      { id: opened, fingerprint: d.alerts[0]!.fingerprint, state: 'received', startWorkflow: true },
      { id: resolved, fingerprint: d.alerts[1]!.fingerprint, state: 'resolved', startWorkflow: false },
    ]);
    await acceptNotification(intake, parsed.notification);
    expect(started).toEqual([opened]);
    expect(closed).toEqual([resolved]);
  });
});
