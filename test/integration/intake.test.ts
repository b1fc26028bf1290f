import pg from 'pg';
import { sealAllAuditEvents } from '../../src/audit/seal.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerPayload, grafanaPayload, signGrafana, uniqueFingerprint } from '../support/alert-payloads.js';
import { startTestResponder, type TestResponder } from '../support/responder-harness.js';

const HMAC_SECRET = 'grafana-shared-secret';
const TS_HEADER = 'X-Grafana-Alerting-Timestamp';

let responder: TestResponder;
let db: pg.Client;

async function storedCounts(): Promise<{ incidents: number; notifications: number }> {
  const result = await db.query<{ incidents: number; notifications: number }>(
    'SELECT (SELECT count(*)::int FROM incidents) AS incidents, (SELECT count(*)::int FROM alert_notifications) AS notifications',
  );
  return result.rows[0]!;
}

function signedGrafanaHeaders(body: string, timestamp = String(Math.floor(Date.now() / 1000))): Record<string, string> {
  return { 'X-Grafana-Alerting-Signature': signGrafana(body, HMAC_SECRET, timestamp), [TS_HEADER]: timestamp };
}

beforeAll(async () => {
  responder = await startTestResponder({
    intake: { key: 'test-intake-key', grafana: { hmacSecret: HMAC_SECRET, timestampHeader: TS_HEADER } },
    server: { port: 0, bodyLimitBytes: 64 * 1024 },
    routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'diagnose-only' }],
  });
  db = new pg.Client({ connectionString: responder.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await responder?.cleanup();
});

describe('bad input: the sender gets a problem+json answer and nothing is stored', () => {
  const goodAlert = () => alertmanagerPayload([{ labels: { alertname: 'Bad', agentic: 'true' } }]);
  const cases: { name: string; status: number; code: string; send: () => Promise<Response> }[] = [
    { name: 'malformed JSON', status: 400, code: 'malformed-json', send: () => responder.post('/hooks/alertmanager/test-intake-key', '{"version": "4", "alerts": [') },
    { name: 'wrong version', status: 400, code: 'invalid-payload', send: () => responder.post('/hooks/alertmanager/test-intake-key', { ...goodAlert(), version: '3' }) },
    {
      name: 'missing required fields',
      status: 400,
      code: 'invalid-payload',
      send: () => {
        const { alerts: _alerts, ...rest } = goodAlert();
        return responder.post('/hooks/alertmanager/test-intake-key', rest);
      },
    },
    { name: 'wrong key', status: 401, code: 'bad-key', send: () => responder.post('/hooks/alertmanager/not-the-key', goodAlert()) },
    {
      name: 'bad HMAC',
      status: 401,
      code: 'bad-signature',
      send: () => {
        const body = JSON.stringify(grafanaPayload([{ labels: { alertname: 'Bad' } }]));
        const ts = String(Math.floor(Date.now() / 1000));
        return responder.post('/hooks/grafana/test-intake-key', body, { 'X-Grafana-Alerting-Signature': signGrafana(body, 'wrong-secret', ts), [TS_HEADER]: ts });
      },
    },
    {
      name: 'stale timestamp',
      status: 401,
      code: 'bad-signature',
      send: () => {
        const body = JSON.stringify(grafanaPayload([{ labels: { alertname: 'Bad' } }]));
        return responder.post('/hooks/grafana/test-intake-key', body, signedGrafanaHeaders(body, String(Math.floor(Date.now() / 1000) - 3600)));
      },
    },
    {
      name: 'oversize body',
      status: 413,
      code: 'body-too-large',
      send: () => responder.post('/hooks/alertmanager/test-intake-key', { ...goodAlert(), padding: 'x'.repeat(70 * 1024) }),
    },
    {
      name: 'wrong content type',
      status: 415,
      code: 'unsupported-media-type',
      send: () => responder.post('/hooks/alertmanager/test-intake-key', JSON.stringify(goodAlert()), { 'content-type': 'text/plain' }),
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.status}`, async () => {
      const before = await storedCounts();
      const response = await testCase.send();
      expect(response.status).toBe(testCase.status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const body = (await response.json()) as { code: string; title: string; status: number };
      expect(body.code).toBe(testCase.code);
      expect(body.status).toBe(testCase.status);
      expect(body.title.length).toBeGreaterThan(0);
      expect(await storedCounts()).toEqual(before);
    });
  }

  it('says which fields are wrong', async () => {
    const payload = alertmanagerPayload([{ labels: { alertname: 'Bad' } }]);
    const response = await responder.post('/hooks/alertmanager/test-intake-key', { ...payload, alerts: [{ ...payload.alerts[0], labels: undefined }] });
    const body = (await response.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors.map((e) => e.path)).toContain('alerts.0.labels');
  });
});

describe('good input', () => {
  it('stores an Alertmanager alert and answers 202 only with the committed incident', async () => {
    const fingerprint = uniqueFingerprint();
    const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: 'DiskFull', agentic: 'true', instance: 'db1:9100' }, fingerprint }]));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { incidents: { id: string; fingerprint: string; state: string }[] };
    expect(body.incidents).toHaveLength(1);
    expect(body.incidents[0]!.fingerprint).toBe(fingerprint);
    const row = await db.query('SELECT alert_name, instance FROM incidents WHERE id = $1', [body.incidents[0]!.id]);
    expect(row.rows[0]).toEqual({ alert_name: 'DiskFull', instance: 'db1:9100' });
  });

  it('double delivery of one notification makes one incident', async () => {
    const payload = alertmanagerPayload([{ labels: { alertname: 'Twice', agentic: 'true' } }]);
    const [first, second] = await Promise.all([
      responder.post('/hooks/alertmanager/test-intake-key', payload),
      responder.post('/hooks/alertmanager/test-intake-key', payload),
    ]);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const a = ((await first.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    const b = ((await second.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    expect(a).toBe(b);
    const record = await responder.record(a);
    expect(record.alerts).toHaveLength(1);
    expect(record.alerts[0]!.deliveries).toBe(2);
  });

  it('accepts a signed Grafana payload with values and keeps them', async () => {
    const body = JSON.stringify(grafanaPayload([{ labels: { alertname: 'HighCpu', agentic: 'true' } }]));
    const response = await responder.post('/hooks/grafana/test-intake-key', body, signedGrafanaHeaders(body));
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: { id: string }[] };
    const record = await responder.record(incidents[0]!.id);
    expect(record.alerts[0]!.alert.values).toEqual({ A: 97.5, C: 1 });
    expect(record.source).toBe('grafana');
  });

  it('many concurrent deliveries all land, each audited once, on one unbroken chain', async () => {
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: `Storm${i}` } }]))),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(202));
    const pool = new pg.Pool({ connectionString: responder.databaseUrl, max: 2 });
    try {
      await sealAllAuditEvents(pool, responder.auditKey);
      const opened = await db.query(`SELECT count(*)::int AS n FROM audit_events e JOIN incidents i ON i.id = e.incident_id WHERE i.alert_name LIKE 'Storm%' AND e.kind = 'incident.opened'`);
      expect(opened.rows[0].n).toBe(40);
      const chain = await verifyAuditChain(pool, { keys: [responder.auditKey] });
      expect(chain).toMatchObject({ ok: true, unsealed: 0 });
    } finally {
      await pool.end();
    }
  });

  it('stores and shows an alert no route matches, without acting on it', async () => {
    const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: 'JustFyi' } }]));
    const { incidents } = (await response.json()) as { incidents: { id: string }[] };
    await new Promise((r) => setTimeout(r, 1000));
    const record = await responder.record(incidents[0]!.id);
    expect(record.state).toBe('received');
    expect(record.route).toBeNull();
    expect(record.stateReason).toMatch(/no route matched/);
    const list = (await (await responder.get('/api/v1/incidents?state=received')).json()) as { incidents: { id: string }[] };
    expect(list.incidents.map((i) => i.id)).toContain(record.id);
  });

  it('a diagnose-only route records a diagnosis and never executes', async () => {
    const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: 'Diag', agentic: 'true' } }]));
    const { incidents } = (await response.json()) as { incidents: { id: string }[] };
    const record = await responder.waitFor(incidents[0]!.id, (r) => r.state === 'diagnosed');
    expect(record.runs).toHaveLength(0);
    expect(record.audit.map((e) => e.kind)).toContain('incident.opened');
  });
});

describe('text PostgreSQL cannot store: U+0000 and lone surrogates become U+FFFD, never a 500', () => {
  const FFFD = '\uFFFD';
  const bad = { nul: 'disk\u0000full', high: 'half\ud800pair', low: '\udc00start' };

  it('an Alertmanager alert with NUL and lone surrogates in label values, label keys and annotations is accepted and stored with U+FFFD', async () => {
    const fingerprint = uniqueFingerprint();
    const payload = alertmanagerPayload([
      {
        fingerprint,
        labels: { alertname: 'Dirty\u0000Name', agentic: 'true', instance: bad.high, 'key\u0000nul': 'v1', 'key\ud800lone': 'v2', device: bad.low },
        annotations: { summary: bad.nul, 'note\udfff': 'x', description: `${bad.high} and ${bad.nul}` },
      },
    ]);
    // Go's encoder and JSON.stringify alike write these as \u0000 and \ud800 escapes.
    expect(JSON.stringify(payload)).toContain('\\u0000');
    expect(JSON.stringify(payload)).toContain('\\ud800');
    const response = await responder.post('/hooks/alertmanager/test-intake-key', payload);
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: { id: string; fingerprint: string }[] };
    expect(incidents[0]!.fingerprint).toBe(fingerprint);
    const record = await responder.record(incidents[0]!.id);
    const labels = { alertname: `Dirty${FFFD}Name`, agentic: 'true', instance: `half${FFFD}pair`, [`key${FFFD}nul`]: 'v1', [`key${FFFD}lone`]: 'v2', device: `${FFFD}start` };
    const annotations = { summary: `disk${FFFD}full`, [`note${FFFD}`]: 'x', description: `half${FFFD}pair and disk${FFFD}full` };
    expect(record.alertName).toBe(`Dirty${FFFD}Name`);
    expect(record.instance).toBe(`half${FFFD}pair`);
    expect(record.labels).toEqual(labels);
    expect(record.annotations).toEqual(annotations);
    expect(record.alerts[0]!.alert.labels).toEqual(labels);
    expect(record.alerts[0]!.alert.annotations).toEqual(annotations);
  });

  it('a fingerprint, receiver and group key with NUL or a lone surrogate are accepted too', async () => {
    const payload = { ...alertmanagerPayload([{ labels: { alertname: 'DirtyIds' }, fingerprint: `fp\u0000${uniqueFingerprint()}\ud800` }]), receiver: 'resp\u0000onder', groupKey: '{}:{x="\udbff"}' };
    const response = await responder.post('/hooks/alertmanager/test-intake-key', payload);
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: { id: string; fingerprint: string }[] };
    expect(incidents[0]!.fingerprint).toMatch(/^fp\uFFFD[0-9a-f]+\uFFFD$/);
    const record = await responder.record(incidents[0]!.id);
    expect(record.alerts[0]!.receiver).toBe(`resp${FFFD}onder`);
  });

  it('a signed Grafana alert with NUL and lone surrogates is accepted (the signature is over the bytes sent) and stored with U+FFFD', async () => {
    const body = JSON.stringify(
      grafanaPayload([{ labels: { alertname: 'GrafanaDirty', agentic: 'true', 'k\u0000': bad.high }, annotations: { summary: bad.nul, runbook: bad.low } }]),
    );
    const response = await responder.post('/hooks/grafana/test-intake-key', body, signedGrafanaHeaders(body));
    expect(response.status).toBe(202);
    const { incidents } = (await response.json()) as { incidents: { id: string }[] };
    const record = await responder.record(incidents[0]!.id);
    expect(record.source).toBe('grafana');
    expect(record.labels).toEqual({ alertname: 'GrafanaDirty', agentic: 'true', [`k${FFFD}`]: `half${FFFD}pair` });
    expect(record.annotations).toEqual({ summary: `disk${FFFD}full`, runbook: `${FFFD}start` });
    expect(record.alerts[0]!.alert.values).toEqual({ A: 97.5, C: 1 });
  });

  it('the same dirty notification sent twice is still one incident, counted twice', async () => {
    const payload = alertmanagerPayload([{ labels: { alertname: 'DirtyTwice', note: '\u0000' } }]);
    const first = await responder.post('/hooks/alertmanager/test-intake-key', payload);
    const second = await responder.post('/hooks/alertmanager/test-intake-key', payload);
    expect([first.status, second.status]).toEqual([202, 202]);
    const a = ((await first.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    const b = ((await second.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    expect(b).toBe(a);
    expect((await responder.record(a)).alerts.map((n) => n.deliveries)).toEqual([2]);
  });
});

describe('late duplicates over the webhook', () => {
  it('firing, resolved, then a late copy of the firing: the copy joins the resolved incident and opens nothing new', async () => {
    const alert = { labels: { alertname: 'LateCopy' }, fingerprint: uniqueFingerprint(), startsAt: '2026-11-28T05:00:00.000Z' };
    const firing = alertmanagerPayload([alert]);
    const opened = await responder.post('/hooks/alertmanager/test-intake-key', firing);
    const id = ((await opened.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    const resolved = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ ...alert, status: 'resolved' }], 'resolved'));
    expect(resolved.status).toBe(202);
    const before = await storedCounts();

    const late = await responder.post('/hooks/alertmanager/test-intake-key', firing);

    expect(late.status).toBe(202);
    expect(((await late.json()) as { incidents: { id: string; state: string }[] }).incidents).toEqual([{ id, fingerprint: alert.fingerprint, state: 'resolved' }]);
    expect(await storedCounts()).toEqual(before);
    const record = await responder.record(id);
    expect(record.state).toBe('resolved');
    expect(record.alerts.map((n) => [n.status, n.deliveries])).toEqual([
      ['firing', 2],
      ['resolved', 1],
    ]);
    expect(record.audit.map((e) => e.kind)).toEqual(['incident.opened', 'incident.state']);
  });

  it('the same alert firing again with a new startsAt after it resolved opens a new incident', async () => {
    const alert = { labels: { alertname: 'Refired' }, fingerprint: uniqueFingerprint(), startsAt: '2026-11-28T05:00:00.000Z' };
    const first = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert]));
    const firstId = ((await first.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ ...alert, status: 'resolved' }], 'resolved'));
    const again = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ ...alert, startsAt: '2026-11-28T07:00:00.000Z' }]));
    const { incidents } = (await again.json()) as { incidents: { id: string; state: string }[] };
    expect(incidents[0]!.id).not.toBe(firstId);
    expect(incidents[0]!.state).toBe('received');
  });
});
