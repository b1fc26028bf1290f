import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, envKeyToPath, loadConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'responder-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('uses defaults with no file and no env', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.routes).toEqual([]);
    expect(config.approval.timeoutMinutes).toBe(30);
  });

  it('maps RESPONDER_<SECTION>__<KEY> onto the file, with types coerced', () => {
    const yaml = file('base.yaml', 'server:\n  port: 8000\nintake:\n  key: from-file\n');
    const config = loadConfig({
      file: yaml,
      env: {
        RESPONDER_SERVER__PORT: '9000',
        RESPONDER_INTAKE__GRAFANA__HMAC_SECRET: 's3cret',
        RESPONDER_DATA_DIR: '/var/lib/responder',
        DATABASE_URL: 'postgres://u:p@db/responder',
        RESPONDER_AUTH__TOKENS: 'alice:t1, bob:t2',
      },
    });
    expect(config.server.port).toBe(9000);
    expect(config.intake.key).toBe('from-file');
    expect(config.intake.grafana.hmacSecret).toBe('s3cret');
    expect(config.dataDir).toBe('/var/lib/responder');
    expect(config.database.url).toBe('postgres://u:p@db/responder');
    expect(config.auth.tokens).toEqual([
      { name: 'alice', token: 't1' },
      { name: 'bob', token: 't2' },
    ]);
  });

  it('reads secrets from *_FILE env vars and <key>File entries', () => {
    const key = file('key', 'intake-key-from-file\n');
    const token = file('token', 'bob-token\n');
    const yaml = file('secrets.yaml', `auth:\n  tokens:\n    - { name: bob, tokenFile: ${token} }\n`);
    const config = loadConfig({ file: yaml, env: { RESPONDER_INTAKE__KEY_FILE: key } });
    expect(config.intake.key).toBe('intake-key-from-file');
    expect(config.auth.tokens).toEqual([{ name: 'bob', token: 'bob-token' }]);
  });

  it('parses route matchers like Alertmanager does', () => {
    const yaml = file('routes.yaml', 'routes:\n  - name: a\n    matchers: [\'agentic="true"\', \'severity=~"warning|info"\']\n    mode: approve\n');
    expect(loadConfig({ file: yaml, env: {} }).routes[0]!.matchers).toEqual([
      { name: 'agentic', operator: '=', value: 'true' },
      { name: 'severity', operator: '=~', value: 'warning|info' },
    ]);
  });

  it('reports every problem at once, each with its path', () => {
    const yaml = file(
      'broken.yaml',
      'server:\n  port: 70000\nroutez: []\nroutes:\n  - name: r\n    matchers: [\'agentic: true\']\n    mode: yolo\n',
    );
    const result = checkConfig({ file: yaml, env: { RESPONDER_INTAKE__KEY_FILE: join(dir, 'missing') } });
    expect(result.config).toBeNull();
    const paths = result.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['RESPONDER_INTAKE__KEY_FILE', 'server.port', 'routes.0.matchers.0', 'routes.0.mode', '']));
    expect(result.problems.find((p) => p.path === '')!.message).toMatch(/routez/);
    expect(result.problems.find((p) => p.path === 'RESPONDER_INTAKE__KEY_FILE')!.message).toMatch(/cannot read secret file .*ENOENT/);
  });

  it('reports a YAML syntax error with where it is', () => {
    const result = checkConfig({ file: file('syntax.yaml', 'server:\n  port: [8080\n'), env: {} });
    expect(result.problems[0]!.message).toMatch(/^YAML: .*line \d+/s);
  });

  it('maps env key names to nested camelCase config paths', () => {
    expect(envKeyToPath('RESPONDER_INTAKE__GRAFANA__TIMESTAMP_HEADER')).toEqual(['intake', 'grafana', 'timestampHeader']);
  });
});
