import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../remediation/catalog.js';
import { closeServer, listenOnLoopback, readBody } from '../testing/listen-on-loopback.js';
import { createHttpExecutor, type HttpEndpoint } from './http-executor.js';

const entry = { id: 'block-host', executor: 'http', http: { endpoint: 'firewall' }, playbookPath: null } as unknown as CatalogEntry;
let server: Server;
let url: string;
let answer: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '{"outcome":"succeeded"}' };
const seen: { path: string; headers: IncomingHttpHeaders; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((raw) => {
      seen.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(raw.toString('utf8') || 'null') });
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
    });
  });
  url = await listenOnLoopback(server);
});
afterAll(async () => closeServer(server));

const executor = (over: Partial<HttpEndpoint> = {}) =>
  createHttpExecutor([{ name: 'firewall', url: `${url}/actions`, token: 's3cret', header: 'Authorization', scheme: 'Bearer', timeoutMs: 2000, dryRun: false, ...over }]);

describe('the HTTP executor', () => {
  it('POSTs the action as JSON to the configured URL with the auth header; hostile inputs stay in the body', async () => {
    answer = { status: 200, body: JSON.stringify({ outcome: 'succeeded', output: 'blocked', outputs: { ruleId: 7 } }) };
    const inputs = { ip: '203.0.113.9', reason: '"; DROP TABLE x; -- /../admin?x=1#y' };
    const result = await executor().run({ entry, inputs, runId: 'i:execute' });
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { ruleId: 7 } });
    expect(result.output).toMatch(/firewall answered HTTP 200: succeeded\nblocked/);
    const request = seen.at(-1)!;
    expect(request.path).toBe('/actions');
    expect(request.headers.authorization).toBe('Bearer s3cret');
    expect(request.body).toEqual({ action: 'block-host', runId: 'i:execute', dryRun: false, inputs });
  });

  it('a bare API-key header when the scheme is empty', async () => {
    answer = { status: 200, body: '{"outcome":"succeeded"}' };
    await executor({ header: 'X-Api-Key', scheme: '' }).run({ entry, inputs: {}, runId: 'k' });
    expect(seen.at(-1)!.headers['x-api-key']).toBe('s3cret');
  });

  it('a 200 whose body is not an outcome is invalid-response, never success', async () => {
    for (const body of ['<html>ok</html>', '{"ok":true}', '{"outcome":"succeeded!"}', '[]']) {
      answer = { status: 200, body };
      const result = await executor().run({ entry, inputs: {}, runId: 'g' });
      expect(result, body).toMatchObject({ outcome: 'failed', failure: 'invalid-response' });
    }
  });

  it('nothing-done is no-hosts-matched; an error status is exit-status with the body kept', async () => {
    answer = { status: 200, body: '{"outcome":"nothing-done","output":"no such ip"}' };
    expect(await executor().run({ entry, inputs: {}, runId: 'n' })).toMatchObject({ outcome: 'failed', failure: 'no-hosts-matched' });
    answer = { status: 503, body: '{"error":"firewall busy"}' };
    const failed = await executor().run({ entry, inputs: {}, runId: 'f' });
    expect(failed).toMatchObject({ outcome: 'failed', failure: 'exit-status' });
    expect(failed.output).toMatch(/HTTP 503: \{"error":"firewall busy"\}/);
  });

  it('an answer that never ends is read only up to its cap, then failed as invalid-response', async () => {
    const endless = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    const endlessUrl = await listenOnLoopback(endless);
    try {
      const result = await createHttpExecutor([{ name: 'firehose', url: endlessUrl, header: 'Authorization', scheme: 'Bearer', timeoutMs: 5000, dryRun: false }]).run({
        entry: { ...entry, http: { endpoint: 'firehose' } } as unknown as CatalogEntry,
        inputs: {},
        runId: 'e',
      });
      expect(result).toMatchObject({ outcome: 'failed', failure: 'invalid-response' });
      expect(result.output).toMatch(/more than 1048576 bytes/);
    } finally {
      endless.closeAllConnections();
      await closeServer(endless);
    }
  });

  it('a redirect is not followed: the token never goes where it points', async () => {
    const before = seen.length;
    answer = { status: 307, body: '', headers: { location: `${url}/elsewhere` } };
    const result = await executor().run({ entry, inputs: {}, runId: 'r' });
    expect(result).toMatchObject({ outcome: 'failed', failure: 'exit-status' });
    expect(seen.slice(before).map((s) => s.path)).toEqual(['/actions']);
  });

  it('a dry run POSTs dryRun: true when the endpoint supports it, else is skipped and says so', async () => {
    answer = { status: 200, body: '{"outcome":"succeeded","output":"would block"}' };
    expect((await executor({ dryRun: true }).dryRun({ entry, inputs: { ip: '203.0.113.9' }, runId: 'd' })).outcome).toBe('succeeded');
    expect(seen.at(-1)!.body).toMatchObject({ dryRun: true });
    const before = seen.length;
    const skipped = await executor().dryRun({ entry, inputs: {}, runId: 'd2' });
    expect(skipped.outcome).toBe('skipped');
    expect(skipped.output).toMatch(/does not support a dry run/);
    expect(seen.length).toBe(before);
  });

  it('an endpoint name the config does not have is a failed start', async () => {
    const other = { ...entry, http: { endpoint: 'missing' } } as CatalogEntry;
    expect(await executor().run({ entry: other, inputs: {}, runId: 'm' })).toMatchObject({ outcome: 'failed', failure: 'not-started' });
  });
});
