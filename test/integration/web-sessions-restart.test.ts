import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/eval/free-port.js';
import { launchChromium } from '../support/browser.js';
import { APPROVER_TOKEN, SECOND_APPROVER_TOKEN, VIEWER_TOKEN, makeDataDir, startTestResponder, type TestResponder } from '../support/responder-harness.js';

const ALICE = `alice:${APPROVER_TOKEN}`;
const BOB = `bob:${SECOND_APPROVER_TOKEN}`;
const VERA = `vera:${VIEWER_TOKEN}:viewer`;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

/** A browser signed in through the sign-in page; its page shows the list. */
async function signedIn(url: string, token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/`);
  return { context, page };
}

/** Where the browser ends up when it opens the list: '/' while signed in, '/sign-in' otherwise. */
async function landsOn(context: BrowserContext, url: string): Promise<{ path: string; text: string }> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  const result = { path: new URL(page.url()).pathname, text: await page.locator('body').innerText() };
  await page.close();
  return result;
}

// Its own file: DBOS runs one service per process, and this test restarts one on the same data dir.
describe('web sign-in across a restart', () => {
  it('a signed-in browser stays signed in through a restart, and loses its session when its token is removed', async () => {
    const dataDir = makeDataDir();
    const port = await freePort();
    const start = (tokens: string[]) => startTestResponder({ server: { port }, auth: { tokens, sessionHours: 2 } }, dataDir);
    // Null while stopped, so a start that fails leaves nothing to stop twice.
    const service: { running: TestResponder | null } = { running: null };
    const restart = async (tokens: string[]) => {
      const running = service.running;
      service.running = null;
      await running?.stop();
      service.running = await start(tokens);
      return service.running;
    };
    try {
      const { url } = await restart([ALICE, BOB, VERA]);
      const alice = await signedIn(url, APPROVER_TOKEN);
      const aliceOnAnotherDevice = await signedIn(url, APPROVER_TOKEN);
      const vera = await signedIn(url, VIEWER_TOKEN);
      expect(await alice.page.locator('body').innerText()).toContain('alice (approver)');
      // The cookie lives as long as auth.sessionHours says.
      const cookie = (await alice.context.cookies()).find((c) => c.name === 'responder_session');
      expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000 + 2 * 3600 - 120);
      expect(cookie?.expires).toBeLessThan(Date.now() / 1000 + 2 * 3600 + 120);

      await restart([ALICE, BOB, VERA]);
      expect(await landsOn(alice.context, url)).toMatchObject({ path: '/', text: expect.stringContaining('alice (approver)') });
      // The page rendered before the restart still signs out: its form token is the session's, kept with it.
      await alice.page.getByRole('button', { name: 'Sign out' }).click();
      await alice.page.waitForURL(/\/sign-in/);
      expect((await landsOn(alice.context, url)).path).toBe('/sign-in');
      expect((await landsOn(aliceOnAnotherDevice.context, url)).path).toBe('/');

      // The operator removes alice's token and restarts.
      await restart([BOB, VERA]);
      expect((await landsOn(aliceOnAnotherDevice.context, url)).path).toBe('/sign-in');
      expect(await landsOn(vera.context, url)).toMatchObject({ path: '/', text: expect.stringContaining('vera (viewer)') });

      // Cookies it never handed out, whatever their length or bytes, send the browser to sign in.
      for (const value of ['', 'x', 'A'.repeat(43), 'A'.repeat(6000), '%00%00', '\u00ff\u00fe'.repeat(30), "' OR 1=1 --"]) {
        const response = await fetch(`${url}/`, { redirect: 'manual', headers: { cookie: `responder_session=${value}` } });
        expect(response.status, `cookie of ${value.length} characters`).toBe(303);
        expect(response.headers.get('location')).toBe('/sign-in?next=%2F');
      }
      for (const context of [alice.context, aliceOnAnotherDevice.context, vera.context]) await context.close();
    } finally {
      if (service.running) await service.running.cleanup();
      else rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
