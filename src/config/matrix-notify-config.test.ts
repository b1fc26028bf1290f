import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkConfig, loadConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'responder-matrix-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(tree: unknown, env: Record<string, string> = {}): Record<string, string> {
  const result = checkConfig({ file: file(`c${Math.random()}.yaml`, stringify(tree)), env });
  expect(result.config).toBeNull();
  return Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
}

describe('matrix settings', () => {
  it('reads the bot token from a file named in the environment, and maps users with approver as the default role', () => {
    const token = file('matrix-token', 'syt_secret\n');
    const config = loadConfig({
      file: file('matrix.yaml', stringify({ matrix: { homeserverUrl: 'https://matrix.example.org', roomId: '!room:example.org', users: [{ matrixId: '@alice:example.org', name: 'alice' }] } })),
      env: { RESPONDER_MATRIX__ACCESS_TOKEN_FILE: token },
    });
    expect(config.matrix.accessToken).toBe('syt_secret');
    expect(config.matrix.users).toEqual([{ matrixId: '@alice:example.org', name: 'alice', role: 'approver' }]);
  });

  it('says what a configured bot is missing, and refuses malformed or repeated user ids', () => {
    expect(problemsOf({ matrix: { homeserverUrl: 'https://matrix.example.org', users: [{ matrixId: '@a:x', name: 'a' }, { matrixId: '@a:x', name: 'b' }, { matrixId: 'alice', name: 'c' }] } })).toEqual({
      'matrix.accessToken': expect.stringContaining('accessToken or accessTokenFile'),
      'matrix.roomId': expect.stringContaining('roomId'),
      'matrix.users.1.matrixId': '@a:x is listed twice',
      'matrix.users.2.matrixId': expect.stringContaining('Matrix user id'),
    });
  });
});

describe('notify settings', () => {
  it('reads a webhook URL from a file and refuses one that is not an http(s) URL, an unknown event and a priority beyond 5', () => {
    const url = file('hook-url', 'https://hooks.example.org/services/T/B/x\n');
    const config = loadConfig({ file: file('notify.yaml', stringify({ notify: { webhooks: [{ name: 'chat', urlFile: url }] } })), env: {} });
    expect(config.notify.webhooks[0]).toMatchObject({ name: 'chat', url: 'https://hooks.example.org/services/T/B/x' });
    expect(config.notify.webhooks[0]!.events).toContain('approval-expired');
    const problems = problemsOf({ notify: { webhooks: [{ name: 'chat', url: 'javascript:alert(1)x y', events: ['everything'] }], ntfy: [{ name: 'chat', url: 'https://ntfy.sh/t', priority: 9 }] } });
    expect(Object.keys(problems).sort()).toEqual(['notify.ntfy.0.priority', 'notify.webhooks.0.events.0', 'notify.webhooks.0.url']);
  });
});
