import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RouteSchema } from '../config/config.schema.js';
import type { IntakeResult, RouteChoice, RoutedNotification } from '../domain/incident.js';
import { acceptNotification, mayParseToIllFormedText, parseWebhook, type IntakeDeps } from './intake.js';

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

describe('parseWebhook given the JSON text, skipping the walk when the text cannot hold NUL or a lone surrogate', () => {
  const dirty = () => {
    const body = fixture('alertmanager-firing.json') as { alerts: { labels: Record<string, string>; annotations: Record<string, string> }[]; receiver: string };
    body.alerts[0]!.labels = { alertname: 'Cpu\u0000', 'team\ud800': 'platform', instance: '\udc00web-1' };
    body.alerts[0]!.annotations = { summary: 'a\u0000b', 'x\u0000': '\ud83d', pair: '\ud83d\ude00' };
    body.receiver = 'resp\uDBFFonder';
    return body;
  };

  it.each([
    ['a clean body', () => fixture('alertmanager-firing.json')],
    ['a body with NUL and lone surrogates in keys and values', dirty],
    ['a body with an escaped backslash before "u0000"', () => ({ ...fixture('alertmanager-firing.json'), receiver: '\\u0000' })],
    ['a body that is not a webhook', () => ({ ...fixture('alertmanager-firing.json'), version: '3\u0000' })],
  ])('answers exactly what it answers without the text: %s', (_name, body) => {
    const text = JSON.stringify(body());
    expect(parseWebhook('alertmanager', JSON.parse(text), text)).toEqual(parseWebhook('alertmanager', JSON.parse(text)));
  });

  it('still replaces what PostgreSQL refuses when the text is given', () => {
    const text = JSON.stringify(dirty());
    const parsed = parseWebhook('alertmanager', JSON.parse(text), text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.notification.receiver).toBe('resp\uFFFDonder');
    expect(parsed.notification.alerts[0]!.annotations).toMatchObject({ summary: 'a\uFFFDb', 'x\uFFFD': '\uFFFD', pair: '\ud83d\ude00' });
  });

  it.each([
    ['\\u0000', true],
    ['\\uD800', true],
    ['\\udbff', true],
    ['\\uDc00', true],
    ['\\uDFFF', true],
    ['\\ud83d\\ude00 (a proper pair: a false alarm, only costs the walk)', true],
    ['\\\\u0000 (an escaped backslash: a false alarm)', true],
    ['a literal \u0000', true],
    ['a lone surrogate in the text itself \ud800', true],
    ['plain text, é and 😀 as UTF-8', false],
    ['\\u00e9 and \\u2028 and \\uE000 and \\uc800', false],
    ['\\n \\t \\" \\/ \\b \\f \\r', false],
  ])('may the JSON text %s parse to text PostgreSQL refuses: %s', (text, may) => {
    expect(mayParseToIllFormedText(text)).toBe(may);
  });

  it('UTF-8 bytes of a surrogate (invalid UTF-8) decode to U+FFFD, never to a lone surrogate', () => {
    const text = Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]).toString('utf8');
    expect(JSON.parse(text)).toBe('\uFFFD\uFFFD\uFFFD');
    expect(mayParseToIllFormedText(text)).toBe(false);
  });

  it('never says no for text whose parse holds NUL or a lone surrogate (every \\uXXXX escape)', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const hex = code.toString(16).padStart(4, '0');
      for (const escape of [`\\u${hex}`, `\\u${hex.toUpperCase()}`]) {
        const text = `{"k":"a${escape}b"}`;
        const value = (JSON.parse(text) as { k: string }).k;
        const refused = value.includes('\u0000') || !(value as string & { isWellFormed(): boolean }).isWellFormed();
        if (refused) expect(mayParseToIllFormedText(text), escape).toBe(true);
      }
    }
  });
});

describe('acceptNotification', () => {
  const routes = [RouteSchema.parse({ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' })];

  function deps(answer: (delivery: RoutedNotification) => IntakeResult[], adoptable = new Set<string>()) {
    const recorded: RoutedNotification[] = [];
    const started: string[] = [];
    const closed: string[] = [];
    const adopted: { id: string; choice: RouteChoice }[] = [];
    const intake: IntakeDeps = {
      notifications: {
        async record(delivery) {
          recorded.push(delivery);
          return answer(delivery);
        },
      },
      routes,
      adoptRoute: async (id, choice) => {
        adopted.push({ id, choice });
        return adoptable.has(id);
      },
      startWorkflow: async (id) => void started.push(id),
      notifyClosed: async (id) => void closed.push(id),
      onWorkflowStartError: () => {},
    };
    return { intake, recorded, started, closed, adopted };
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

  it('routes an incident stored unrouted when a later firing notification matches a route, and starts it', async () => {
    const parsed = parseWebhook('alertmanager', fixture('alertmanager-firing.json'));
    if (!parsed.ok) throw new Error('fixture');
    const [first, second] = parsed.notification.alerts;
    const notification = {
      ...parsed.notification,
      alerts: [{ ...first!, labels: { ...first!.labels, agentic: 'true' } }, { ...second!, labels: { ...second!.labels, agentic: 'false' } }],
    };
    const unrouted = randomUUID();
    const unmatched = randomUUID();
    const { intake, started, adopted } = deps(
      (d) => [
        { id: unrouted, fingerprint: d.alerts[0]!.fingerprint, state: 'received', startWorkflow: false },
        { id: unmatched, fingerprint: d.alerts[1]!.fingerprint, state: 'received', startWorkflow: false },
      ],
      new Set([unrouted]),
    );
    await acceptNotification(intake, notification);
    // Only the alert that matches a route asks; the other stays stored and shown.
    expect(adopted).toEqual([{ id: unrouted, choice: { route: 'agentic', mode: 'approve' } }]);
    expect(started).toEqual([unrouted]);
  });

  it('starts nothing when the incident was routed already or has moved on', async () => {
    const parsed = parseWebhook('alertmanager', fixture('alertmanager-firing.json'));
    if (!parsed.ok) throw new Error('fixture');
    const notification = { ...parsed.notification, alerts: parsed.notification.alerts.map((alert) => ({ ...alert, labels: { ...alert.labels, agentic: 'true' } })) };
    const { intake, started, adopted } = deps((d) => [
      { id: randomUUID(), fingerprint: d.alerts[0]!.fingerprint, state: 'received', startWorkflow: false },
      { id: randomUUID(), fingerprint: d.alerts[1]!.fingerprint, state: 'investigating', startWorkflow: false },
    ]);
    await acceptNotification(intake, notification);
    expect(adopted).toHaveLength(1);
    expect(started).toEqual([]);
  });
});
