import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertmanagerWebhookSchema } from './alertmanager-webhook.schema.js';
import { parseAlertmanagerWebhook, quickParse } from './parse-alertmanager-webhook.js';

type Body = Record<string, unknown> & { alerts: Record<string, unknown>[] };

function fixture(name: string): Body {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8')) as Body;
}

const FIXTURES = ['alertmanager-firing', 'alertmanager-resolved', 'alertmanager-truncated'];

/** Values a field may be given: valid, invalid, missing (undefined deletes it), odd. */
const VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  '4',
  '3',
  'firing',
  'resolved',
  'pending',
  0,
  3,
  -1,
  1.5,
  Number.NaN,
  true,
  [],
  ['a'],
  {},
  { a: 'b' },
  { a: 1 },
  { a: null },
  JSON.parse('{"__proto__": "x", "k": "v"}'),
  JSON.parse('{"__proto__": 1}'),
  '2024-11-28T06:01:13.585Z',
  '2024-11-28T06:01:13.585123456+01:00',
  '2024-11-28T06:01Z',
  '2024-02-30T00:00:00Z',
  '2024-11-28 06:01:13Z',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:00:00.000Z',
  '0001-01-01T00:00:00+00:00',
  '0001-01-01T00:00:00-00:00',
  '0001-01-01T00:00:00.5Z',
  'http://prom:9090/graph?g0.expr=up',
];

const TOP = ['version', 'receiver', 'status', 'groupKey', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'truncatedAlerts', 'extra', '__proto__'];
const ALERT = ['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint', 'origin', '__proto__'];

/** A small seeded generator, so a failure can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function set(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function variants(count: number): unknown[] {
  const next = random(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out: unknown[] = [];
  for (let n = 0; n < count; n++) {
    const body = fixture(pick(FIXTURES));
    const mutations = 1 + Math.floor(next() * 3);
    for (let m = 0; m < mutations; m++) {
      const where = next();
      const alerts = Array.isArray(body.alerts) ? body.alerts : [];
      const alert = alerts[Math.floor(next() * alerts.length)];
      const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
      if (where < 0.35 || !isObject(alert)) set(body, pick(TOP), structuredClone(pick(VALUES)));
      else if (where < 0.75) set(alert, pick(ALERT), structuredClone(pick(VALUES)));
      else if (where < 0.9) {
        const map = alert[pick(['labels', 'annotations'])];
        if (isObject(map)) set(map, pick(['alertname', 'severity', 'x', '__proto__', '1']), structuredClone(pick(VALUES)));
      } else body.alerts = [...alerts, ...alerts.slice(0, 1)];
    }
    out.push(body);
  }
  // JSON round trip too, as the route sees bodies; and a few that are not objects at all.
  return [...out, ...out.slice(0, 500).map((v) => JSON.parse(JSON.stringify(v)) as unknown), null, [], 'x', 4, new Map(), { then: () => {}, ...fixture('alertmanager-firing') }];
}

describe('parseAlertmanagerWebhook', () => {
  it.each(FIXTURES)('takes the quick walk for the captured %s payload, with what zod answers', (name) => {
    const body = fixture(name);
    const quick = quickParse(body);
    expect(quick).toBeDefined();
    expect(quick).toStrictEqual(AlertmanagerWebhookSchema.parse(body));
  });

  it('accepts only what zod accepts, with a deep-equal result in the same key order; anything else goes to zod', () => {
    let quickly = 0;
    for (const body of variants(4000)) {
      const expected = AlertmanagerWebhookSchema.safeParse(body);
      const quick = quickParse(body);
      if (quick !== undefined) {
        quickly += 1;
        expect(expected.success, JSON.stringify(body)).toBe(true);
        expect(quick).toStrictEqual(expected.data);
        expect(JSON.stringify(quick)).toBe(JSON.stringify(expected.data));
      }
      const answer = parseAlertmanagerWebhook(body);
      expect(answer.success).toBe(expected.success);
      if (answer.success && expected.success) expect(answer.data).toStrictEqual(expected.data);
      if (!answer.success && !expected.success) expect(answer.error.issues.map((i) => [i.path, i.message])).toEqual(expected.error.issues.map((i) => [i.path, i.message]));
    }
    // The variants exercise both sides: many stay valid, many do not.
    expect(quickly).toBeGreaterThan(500);
  });
});
