import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { alertmanagerPayload } from '../support/alert-payloads.js';
import { launchChromium } from '../support/browser.js';
import { APPROVER_TOKEN, REPO, SECOND_APPROVER_TOKEN, VIEWER_TOKEN, startTestResponder, type TestResponder } from '../support/responder-harness.js';

let scratch: string;
let service: PidfileService;
let responder: TestResponder;
let browser: Browser;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-web-'));
  service = startPidfileService(scratch);
  responder = await startTestResponder({ routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await responder?.cleanup();
  service?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function open(labels: Record<string, string> = {}): Promise<string> {
  const response = await responder.post(
    '/hooks/alertmanager/test-intake-key',
    alertmanagerPayload([
      {
        labels: { alertname: 'ServiceWedged', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost', ...labels },
        annotations: { summary: 'demo-service is wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command },
      },
    ]),
  );
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

const settled = (r: IncidentRecord) => ['resolved', 'unverified', 'failed', 'denied', 'rejected', 'expired', 'diagnosed'].includes(r.state);
const waiting = (r: IncidentRecord) => r.state === 'awaiting_approval' || settled(r);

/** A browser session signed in through the sign-in page with a token. */
async function signedIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${responder.url}/`);
  expect(new URL(page.url()).pathname).toBe('/sign-in');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${responder.url}/`);
  return { context, page };
}

describe('the web UI', () => {
  it('sends an anonymous browser to sign in, and answers a bad token with 401', async () => {
    const anonymous = await fetch(`${responder.url}/`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/sign-in?next=%2F');
    expect((await fetch(`${responder.url}/`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    expect((await fetch(`${responder.url}/`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(200);
  });

  it('offers Sign out only to a sign-in session, and signing out ends it', async () => {
    const bearer = await fetch(`${responder.url}/`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
    expect(await bearer.text()).not.toContain('Sign out');
    const { context, page } = await signedIn(VIEWER_TOKEN);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${responder.url}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await context.close();
  });

  it('approves from the incident page: the decision is recorded with who, channel web and reason, and the action runs', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const { context, page } = await signedIn(APPROVER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    await expect(page.getByRole('heading', { name: /Your decision on round 1/ }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Reason (goes into the audit trail)').fill('checked the dashboard');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.waitForURL(/decided=1/);
    expect(await page.getByRole('status').textContent()).toContain('Your decision was recorded.');
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.approvals).toEqual([expect.objectContaining({ approver: 'alice', channel: 'web', reason: 'checked the dashboard', approved: true })]);
    // No Prometheus here: the page says the remediation ran but was not verified, never that it resolved.
    await page.goto(`${responder.url}/incidents/${id}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('unverified');
    expect(await page.locator('main').textContent()).toContain('remediation succeeded but was not verified');
    await context.close();
  });

  it('rejects with a reason, and a reject without one is refused by the page', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const { context, page } = await signedIn(APPROVER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    await page.getByRole('button', { name: 'Reject' }).click();
    // The server still refuses an empty reason (the reject button skips the browser's own check).
    expect(await page.getByRole('alert').textContent()).toContain('the decision is not valid');
    await page.getByLabel('Reason (goes into the audit trail)').fill('not during the release');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(/decided=1/);
    const record = await responder.waitFor(id, settled);
    expect(record.state).toBe('rejected');
    expect(record.stateReason).toBe('not during the release');
    await context.close();
  });

  it('modifies the inputs: the new round is dry-run and policy-checked, then the modified action runs', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const { context, page } = await signedIn(APPROVER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    await page.getByText('Change the inputs, then approve the changed action').click();
    await page.getByLabel('Reason (goes into the audit trail)').fill('same service, new name');
    await page.getByLabel('service').fill('demo-service-renamed');
    await page.getByRole('button', { name: 'Approve with these inputs' }).click();
    await page.waitForURL(/decided=1/);
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.approvalRequests.map((r) => [r.round, r.state])).toEqual([
      [1, 'superseded'],
      [2, 'approved'],
    ]);
    expect(record.runs.map((r) => [r.kind, r.inputs.service])).toEqual([
      ['dry-run', 'demo-service'],
      ['dry-run', 'demo-service-renamed'],
      ['execute', 'demo-service-renamed'],
    ]);
    await page.goto(`${responder.url}/incidents/${id}`);
    expect(await page.getByText('Earlier rounds').isVisible()).toBe(true);
    await context.close();
  });

  it('a modification the schema refuses is shown with the reason and nothing changes', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const { context, page } = await signedIn(APPROVER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    await page.getByText('Change the inputs, then approve the changed action').click();
    await page.getByLabel('Reason (goes into the audit trail)').fill('everywhere');
    await page.getByLabel('host').fill('all');
    // The browser's own hint for a value its pattern refuses is the catalog's sentence, not "match the format".
    expect(await page.getByLabel('host').getAttribute('title')).toMatch(/^must be one host name of .*not a group/);
    await page.getByRole('button', { name: 'Approve with these inputs' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('must name exactly one inventory host');
    expect((await responder.record(id)).approvals).toEqual([]);
    await responder.approve(id, { approved: false, reason: 'clean up' });
    await context.close();
  });

  it('a viewer sees the request but no decision controls, and a forged post is refused', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const { context, page } = await signedIn(VIEWER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    expect(await page.getByText('You can see this request but not decide on it').isVisible()).toBe(true);
    expect(await page.locator('form.decide').count()).toBe(0);
    const status = await page.evaluate(async (path) => {
      const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=approve&reason=x' });
      return response.status;
    }, `/incidents/${id}/decide`);
    expect(status).toBe(403);
    expect((await responder.record(id)).approvals).toEqual([]);
    await responder.approve(id, { approved: false, reason: 'clean up' });
    await context.close();
  });

  it('a quorum of two: two browser sessions, two people, then it runs', async () => {
    const id = await open({ service: 'keycloak' });
    await responder.waitFor(id, waiting);
    const alice = await signedIn(APPROVER_TOKEN);
    const bob = await signedIn(SECOND_APPROVER_TOKEN);
    for (const [session, reason] of [
      [alice, 'first pair of eyes'],
      [bob, 'second pair of eyes'],
    ] as const) {
      await session.page.goto(`${responder.url}/incidents/${id}`);
      await session.page.getByLabel('Reason (goes into the audit trail)').fill(reason);
      await session.page.getByRole('button', { name: 'Approve', exact: true }).click();
      await session.page.waitForURL(/decided=1/);
    }
    const record = await responder.waitFor(id, settled);
    expect(record.state, record.stateReason ?? '').toBe('unverified');
    expect(record.approvals.map((a) => [a.approver, a.channel])).toEqual([
      ['alice', 'web'],
      ['bob', 'web'],
    ]);
    await alice.context.close();
    await bob.context.close();
  });

  it('the list updates live when a webhook arrives', async () => {
    const { context, page } = await signedIn(VIEWER_TOKEN);
    const before = await page.locator('#incident-rows li').count();
    await page.waitForTimeout(500);
    await open({ alertname: 'ArrivedWhileWatching' });
    await page.getByText('ArrivedWhileWatching').waitFor({ timeout: 10_000 });
    expect(await page.locator('#incident-rows li').count()).toBeGreaterThan(before);
    await context.close();
  });

  it('refuses a form post without the form token, or from another origin (CSRF)', async () => {
    const id = await open();
    await responder.waitFor(id, waiting);
    const { context, page } = await signedIn(APPROVER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    const requestId = await page.locator('input[name=requestId]').inputValue();
    const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${responder.url}/incidents/${id}/decide`, { method: 'POST', redirect: 'manual', headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    expect((await post(`requestId=${requestId}&decision=approve&reason=forged`)).status).toBe(403);
    expect((await post(`requestId=${requestId}&decision=approve&reason=forged&csrf=guess`)).status).toBe(403);
    const csrf = await page.locator('form.decide input[name=csrf]').inputValue();
    expect((await post(`requestId=${requestId}&decision=approve&reason=forged&csrf=${csrf}`, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await responder.record(id)).approvals).toEqual([]);
    await responder.approve(id, { approved: false, reason: 'clean up' });
    await context.close();
  });

  it('alert text is shown as text: a script in an annotation never runs', async () => {
    const response = await responder.post(
      '/hooks/alertmanager/test-intake-key',
      alertmanagerPayload([{ labels: { alertname: '<img src=x onerror=alert(1)>' }, annotations: { summary: '<script>window.pwned=1</script>' }, generatorURL: 'javascript:alert(1)' }]),
    );
    const id = ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
    const { context, page } = await signedIn(VIEWER_TOKEN);
    await page.goto(`${responder.url}/incidents/${id}`);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.getByText('<script>window.pwned=1</script>').isVisible()).toBe(true);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    await context.close();
  });
});

describe('screenshots for docs/', () => {
  it.runIf(process.env.UPDATE_SCREENSHOTS === '1')('writes the list and incident page at desktop and phone widths, light and dark', async () => {
    const id = await open({ alertname: 'NginxDown', service: 'nginx' });
    await responder.waitFor(id, waiting);
    for (const scheme of ['light', 'dark'] as const) {
      for (const [name, viewport] of [
        ['desktop', { width: 1280, height: 900 }],
        ['phone', { width: 375, height: 812 }],
      ] as const) {
        const context = await browser.newContext({ viewport, colorScheme: scheme, extraHTTPHeaders: { authorization: `Bearer ${APPROVER_TOKEN}` } });
        const page = await context.newPage();
        await page.goto(`${responder.url}/`);
        await page.screenshot({ path: join(REPO, 'docs/screenshots', `list-${name}-${scheme}.png`), fullPage: false });
        await page.goto(`${responder.url}/incidents/${id}`);
        await page.screenshot({ path: join(REPO, 'docs/screenshots', `incident-${name}-${scheme}.png`), fullPage: name === 'desktop' });
        await context.close();
      }
    }
  });
});
