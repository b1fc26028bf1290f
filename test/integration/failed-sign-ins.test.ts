import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { APPROVER_TOKEN, startTestResponder, type TestResponder } from '../support/responder-harness.js';

// Over a real socket: the limit is kept per client address, which app.request does not have.
describe('wrong tokens in the sign-in form', () => {
  let responder: TestResponder;
  beforeAll(async () => {
    responder = await startTestResponder({ auth: { tokens: [`alice:${APPROVER_TOKEN}`], failedAttemptsPerMinute: 3 } });
  });
  afterAll(async () => responder?.cleanup());

  /** The sign-in form as a browser holds it: its form token and cookie. */
  async function loadForm(): Promise<{ cookie: string; csrf: string }> {
    const form = await fetch(`${responder.url}/sign-in`);
    expect(form.status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1];
    expect(csrf).toBeDefined();
    return { cookie: form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: csrf! };
  }
  const post = (form: { cookie: string; csrf: string }, token: string) =>
    fetch(`${responder.url}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
      body: new URLSearchParams({ token, csrf: form.csrf, next: '/' }).toString(),
    });

  it('count like refused bearer tokens: past the limit the address is refused, the right token included', async () => {
    const form = await loadForm();
    for (let guess = 0; guess < 3; guess += 1) expect((await post(form, `guess-${guess}-aaaaaaaaaaaaaaaa`)).status).toBe(403);
    const refused = await post(form, APPROVER_TOKEN);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${responder.url}/sign-in`)).status).toBe(429);
    expect((await fetch(`${responder.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } })).status).toBe(429);
    // Webhooks from the same address still get in.
    const hook = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([{ labels: { alertname: 'StillComesIn' }, annotations: {} }]));
    expect(hook.status).toBe(202);
  });
});
