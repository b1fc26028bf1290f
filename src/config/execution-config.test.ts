import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkConfig, loadConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'responder-exec-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('execution settings', () => {
  it('reads the Kestra password and an HTTP endpoint token from files, and the concurrency limit from the environment', () => {
    const password = file('kestra-password', 'k3stra-pass\n');
    const token = file('firewall-token', 'fw-token\n');
    const yaml = file(
      'exec.yaml',
      stringify({
        execution: {
          kestra: { url: 'http://kestra:8080', tenant: 'main', username: 'responder@example.org', passwordFile: password },
          http: { endpoints: [{ name: 'firewall', url: 'https://fw.internal/act', tokenFile: token, header: 'X-Api-Key', scheme: '' }] },
        },
      }),
    );
    const config = loadConfig({ file: yaml, env: { RESPONDER_EXECUTION__MAX_CONCURRENT_RUNS: '1' } });
    expect(config.execution.maxConcurrentRuns).toBe(1);
    expect(config.execution.kestra).toMatchObject({ url: 'http://kestra:8080', tenant: 'main', username: 'responder@example.org', password: 'k3stra-pass', pollIntervalMs: 1000 });
    expect(config.execution.http.endpoints).toEqual([{ name: 'firewall', url: 'https://fw.internal/act', token: 'fw-token', header: 'X-Api-Key', scheme: '', timeoutMs: 30_000, dryRun: false }]);
  });

  it('defaults: four runs at once, no Kestra, no HTTP endpoints', () => {
    const config = loadConfig({ env: {} });
    expect(config.execution).toMatchObject({ maxConcurrentRuns: 4, http: { endpoints: [] } });
    expect(config.execution.kestra).toBeUndefined();
  });

  it('refuses half a basic auth, basic auth and a token together, a tenant that is a path, and a zero limit', () => {
    const check = (execution: unknown) => Object.fromEntries(checkConfig({ file: file(`bad-${Math.random()}.yaml`, stringify({ execution })), env: {} }).problems.map((p) => [p.path, p.message]));
    expect(check({ kestra: { url: 'http://k:8080', username: 'u' } })).toMatchObject({ 'execution.kestra.password': expect.stringMatching(/both username and password/) });
    expect(check({ kestra: { url: 'http://k:8080', username: 'u', password: 'p', token: 't' } })).toMatchObject({ 'execution.kestra.token': expect.stringMatching(/not both/) });
    expect(Object.keys(check({ kestra: { url: 'http://k:8080', tenant: '../admin' } }))).toEqual(['execution.kestra.tenant']);
    expect(Object.keys(check({ maxConcurrentRuns: 0 }))).toEqual(['execution.maxConcurrentRuns']);
  });
});
