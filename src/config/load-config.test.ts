import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../domain/errors.js';
import { checkConfig, envKeyToPath, loadConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'responder-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(result: ReturnType<typeof checkConfig>): Record<string, string> {
  expect(result.config).toBeNull();
  return Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('loadConfig from a YAML file and the environment', () => {
  it('uses the defaults with no file and no environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.database).toEqual({ embeddedPort: 54329 });
    expect(config.routes).toEqual([]);
    expect(config.approval.timeoutMinutes).toBe(30);
  });

  it('reads the file named by RESPONDER_CONFIG when no file is given', () => {
    const yaml = file('named-by-env.yaml', stringify({ server: { port: 8123 } }));
    expect(loadConfig({ env: { RESPONDER_CONFIG: yaml } }).server.port).toBe(8123);
  });

  it('lets RESPONDER_<SECTION>__<KEY> override the file, with numbers coerced', () => {
    const yaml = file('base.yaml', stringify({ server: { port: 8000, host: '0.0.0.0' }, intake: { key: 'from-file' } }));
    const config = loadConfig({
      file: yaml,
      env: {
        RESPONDER_SERVER__PORT: '9000',
        RESPONDER_INTAKE__GRAFANA__HMAC_SECRET: 's3cret',
        RESPONDER_DATA_DIR: '/var/lib/responder',
        DATABASE_URL: 'postgres://u:p@db/responder',
        RESPONDER_AUTH__TOKENS: 'alice:alice-token-0123456789,bob:bob-token-0123456789:viewer',
      },
    });
    expect(config.server.port).toBe(9000);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.intake.key).toBe('from-file');
    expect(config.intake.grafana.hmacSecret).toBe('s3cret');
    expect(config.dataDir).toBe('/var/lib/responder');
    expect(config.database.url).toBe('postgres://u:p@db/responder');
    expect(config.auth.tokens).toEqual([
      { name: 'alice', role: 'approver', sha256: sha256('alice-token-0123456789') },
      { name: 'bob', role: 'viewer', sha256: sha256('bob-token-0123456789') },
    ]);
  });

  it('ignores environment variables that are set but empty', () => {
    const yaml = file('empty-env.yaml', stringify({ server: { port: 8000 } }));
    const config = loadConfig({ file: yaml, env: { RESPONDER_SERVER__PORT: '', RESPONDER_INTAKE__KEY: '', DATABASE_URL: '' } });
    expect(config.server.port).toBe(8000);
    expect(config.intake.key).toBeUndefined();
    expect(config.database.url).toBeUndefined();
  });

  it('parses route matchers as Alertmanager writes them', () => {
    const yaml = file('routes.yaml', stringify({ routes: [{ name: 'a', matchers: ['agentic="true"', 'severity=~"warning|info"', 'env!="dev"'], mode: 'approve' }] }));
    expect(loadConfig({ file: yaml, env: {} }).routes[0]!.matchers).toEqual([
      { name: 'agentic', operator: '=', value: 'true' },
      { name: 'severity', operator: '=~', value: 'warning|info' },
      { name: 'env', operator: '!=', value: 'dev' },
    ]);
  });

  it('maps env names to nested camelCase paths', () => {
    expect(envKeyToPath('RESPONDER_INTAKE__GRAFANA__TIMESTAMP_HEADER')).toEqual(['intake', 'grafana', 'timestampHeader']);
    expect(envKeyToPath('RESPONDER_DATA_DIR')).toEqual(['dataDir']);
  });
});

describe('secrets from files', () => {
  it('reads `<key>File:` entries in the YAML, trimming the trailing newline', () => {
    const key = file('intake-key', 'intake-key-from-file\n');
    const token = file('bob-token', 'bob-token-0123456789\n');
    const url = file('database-url', 'postgres://u:p@db/responder\n');
    const yaml = file('secrets.yaml', stringify({ intake: { keyFile: key }, database: { urlFile: url }, auth: { tokens: [{ name: 'bob', tokenFile: token }] } }));
    const config = loadConfig({ file: yaml, env: {} });
    expect(config.intake.key).toBe('intake-key-from-file');
    expect(config.database.url).toBe('postgres://u:p@db/responder');
    expect(config.auth.tokens).toEqual([{ name: 'bob', role: 'approver', sha256: sha256('bob-token-0123456789') }]);
  });

  it('reads RESPONDER_<...>_FILE variables', () => {
    const hmac = file('hmac', 'grafana-hmac\n');
    const tokens = file('tokens', 'alice:alice-token-0123456789,bob:bob-token-0123456789\n');
    const config = loadConfig({ env: { RESPONDER_INTAKE__GRAFANA__HMAC_SECRET_FILE: hmac, RESPONDER_AUTH__TOKENS_FILE: tokens } });
    expect(config.intake.grafana.hmacSecret).toBe('grafana-hmac');
    expect(config.auth.tokens.map((t) => t.name)).toEqual(['alice', 'bob']);
  });

  it('leaves policy.bundleFile a path, not a secret to read', () => {
    const fromYaml = loadConfig({ file: file('bundle.yaml', stringify({ policy: { bundleFile: '/opt/responder/bundle.tar.gz' } })), env: {} });
    expect(fromYaml.policy.bundleFile).toBe('/opt/responder/bundle.tar.gz');
    const fromEnv = loadConfig({ env: { RESPONDER_POLICY__BUNDLE_FILE: '/srv/bundle.tar.gz' } });
    expect(fromEnv.policy.bundleFile).toBe('/srv/bundle.tar.gz');
  });

  it('refuses `<key>File:` for a key that is not a secret', () => {
    const problems = problemsOf(checkConfig({ file: file('port-file.yaml', stringify({ server: { portFile: '/tmp/port' } })), env: {} }));
    expect(problems).toEqual({ 'server.portFile': 'unknown key' });
  });
});

describe('checkConfig problems', () => {
  it('reports every problem at once, each at its path', () => {
    const yaml = file(
      'broken.yaml',
      stringify({
        server: { port: 70000 },
        routez: [],
        intake: { keyFile: join(dir, 'no-such-key') },
        routes: [{ name: 'r', matchers: ['agentic: true'], mode: 'yolo' }],
      }),
    );
    const problems = problemsOf(checkConfig({ file: yaml, env: { RESPONDER_INTAKE__GRAFANA__HMAC_SECRET_FILE: join(dir, 'no-such-secret') } }));
    expect(Object.keys(problems).sort()).toEqual([
      'RESPONDER_INTAKE__GRAFANA__HMAC_SECRET_FILE',
      'intake.keyFile',
      'routes.0.matchers.0',
      'routes.0.mode',
      'routez',
      'server.port',
    ]);
    expect(problems['server.port']).toMatch(/less than or equal to 65535/);
    expect(problems['routez']).toBe('unknown key');
    expect(problems['routes.0.matchers.0']).toMatch(/not a label matcher.*agentic: true/);
    expect(problems['intake.keyFile']).toMatch(/cannot read secret file .*no-such-key: ENOENT/);
    expect(problems['RESPONDER_INTAKE__GRAFANA__HMAC_SECRET_FILE']).toMatch(/cannot read secret file .*no-such-secret: ENOENT/);
  });

  it('reports a YAML syntax error with its line, alongside the problems in the environment', () => {
    const yaml = file('syntax.yaml', 'server:\n  port: [8080\n');
    const problems = problemsOf(
      checkConfig({ file: yaml, env: { RESPONDER_SERVER__PORT: 'eighty', RESPONDER_SERVR__HOST: 'x', RESPONDER_INTAKE__KEY_FILE: join(dir, 'missing') } }),
    );
    expect(Object.keys(problems).sort()).toEqual([yaml, 'RESPONDER_INTAKE__KEY_FILE', 'server.port', 'servr'].sort());
    expect(problems[yaml]).toMatch(/^YAML: .*line \d+/s);
  });

  it('names a misspelt key inside a section instead of dropping it', () => {
    // Dropping `matcher:` would leave the route with no matchers, matching every alert.
    const yaml = file('typo.yaml', stringify({ routes: [{ name: 'r', matcher: ['severity="critical"'], mode: 'auto' }] }));
    const problems = problemsOf(checkConfig({ file: yaml, env: { RESPONDER_SERVER__PROT: '9000' } }));
    expect(problems).toEqual({ 'routes.0.matcher': 'unknown key', 'server.prot': 'unknown key' });
  });

  it('names the value of a number that is not one, from the file or the environment', () => {
    const yaml = file('not-a-number.yaml', 'server:\n  port: 80a\n');
    const problems = problemsOf(checkConfig({ file: yaml, env: { RESPONDER_APPROVAL__TIMEOUT_MINUTES: 'half an hour' } }));
    expect(problems).toEqual({ 'server.port': 'expected a number, got "80a"', 'approval.timeoutMinutes': 'expected a number, got "half an hour"' });
  });

  it('reports a config file that cannot be read or is not a mapping', () => {
    const missing = join(dir, 'no-such.yaml');
    expect(problemsOf(checkConfig({ file: missing, env: {} }))).toEqual({ [missing]: 'cannot read config file: ENOENT' });
    const list = file('list.yaml', '- a\n- b\n');
    expect(problemsOf(checkConfig({ file: list, env: {} }))).toEqual({ [list]: 'config file must hold a mapping at the top level' });
  });

  it('loadConfig throws one ConfigError that lists them all', () => {
    const yaml = file('two-problems.yaml', stringify({ server: { port: -1 }, log: { level: 'loud' } }));
    const error = (() => {
      try {
        loadConfig({ file: yaml, env: {} });
      } catch (thrown) {
        return thrown;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config_invalid');
    expect((error as ConfigError).message).toMatch(/^configuration has 2 problem\(s\):\n {2}- server\.port: .*\n {2}- log\.level: /);
  });
});

describe('agent and MCP settings', () => {
  it('accepts the documented example file as it ships', () => {
    const config = loadConfig({ file: join(import.meta.dirname, '..', '..', 'responder.example.yaml'), env: {} });
    expect(config.agent.provider).toBe('anthropic');
    expect(config.mcp.builtin).toBe(true);
  });

  it('reads the model key and an MCP bearer token from files, and agent budgets from the environment', () => {
    const key = file('anthropic-key', 'sk-ant-from-file\n');
    const token = file('mcp-token', 'grafana-token\n');
    const config = loadConfig({
      file: file('agent.yaml', stringify({ agent: { apiKeyFile: key }, mcp: { servers: [{ name: 'grafana', transport: 'http', url: 'http://mcp:8000/mcp', bearerTokenFile: token }] } })),
      env: { RESPONDER_AGENT__MAX_STEPS: '4', RESPONDER_AGENT__TIMEOUT_SECONDS: '30' },
    });
    expect(config.agent.apiKey).toBe('sk-ant-from-file');
    expect(config.mcp.servers[0]!.bearerToken).toBe('grafana-token');
    expect(config.agent.maxSteps).toBe(4);
    expect(config.agent.timeoutSeconds).toBe(30);
  });

  it('says what an OpenAI-compatible provider and an MCP server are missing', () => {
    const problems = problemsOf(
      checkConfig({
        file: file('bad-agent.yaml', stringify({ agent: { provider: 'openai-compatible' }, mcp: { servers: [{ name: 'g', transport: 'stdio' }, { name: 'h', transport: 'sse' }] } })),
        env: {},
      }),
    );
    expect(problems['agent.baseUrl']).toMatch(/needs a baseUrl/);
    expect(problems['mcp.servers.0.command']).toBe('a stdio server needs a command');
    expect(problems['mcp.servers.1.url']).toBe('an sse server needs a url');
  });

  it('offers two built-in tools by default, and names a built-in tool that does not exist', () => {
    expect(loadConfig({ env: {} }).mcp.builtinTools).toEqual(['query_prometheus', 'query_loki_logs']);
    const problems = problemsOf(checkConfig({ file: file('builtin-tools.yaml', stringify({ mcp: { builtinTools: ['query_prometheus', 'restart_everything'] } })), env: {} }));
    expect(problems['mcp.builtinTools.1']).toMatch(/Invalid enum value\. Expected 'query_prometheus' \| 'query_loki_logs' \|.*received 'restart_everything'/);
  });
});

describe('API tokens', () => {
  it('keeps only the SHA-256 of a token, takes a role after it, and accepts sha256:<hex> instead of the token', () => {
    const digest = sha256('carol-token-0123456789');
    const config = loadConfig({
      env: { RESPONDER_AUTH__TOKENS: `alice:alice:token:with:colons-0123:admin,carol:sha256:${digest.toUpperCase()}:viewer,dave:dave-token-0123456789` },
    });
    expect(config.auth.tokens).toEqual([
      { name: 'alice', role: 'admin', sha256: sha256('alice:token:with:colons-0123') },
      { name: 'carol', role: 'viewer', sha256: digest },
      { name: 'dave', role: 'approver', sha256: sha256('dave-token-0123456789') },
    ]);
    expect(JSON.stringify(config)).not.toContain('dave-token-0123456789');
  });

  it('refuses a short token and a malformed sha256, naming the token (an unknown role suffix is part of the token)', () => {
    const result = checkConfig({ env: { RESPONDER_AUTH__TOKENS: 'alice:short,bob:sha256:abc,carol:carol-token-0123456789:root' } });
    expect(result.config).toBeNull();
    const messages = result.problems.map((p) => p.message).join('\n');
    expect(messages).toContain('token of alice is shorter than 16 characters');
    expect(messages).toContain('token of bob: sha256: must be followed by 64 hex digits');
    expect(result.problems).toHaveLength(2);
  });
});

describe('audit settings', () => {
  it('keeps audit.keyFile a path (the key is read, and its mode checked, at start), and reads the rest from the environment', () => {
    const config = loadConfig({
      env: {
        RESPONDER_AUDIT__KEY_FILE: '/run/secrets/audit-key',
        RESPONDER_AUDIT__PREVIOUS_KEY_FILES: '/keys/2025.key, /keys/2026.key',
        RESPONDER_AUDIT__LOKI__ENABLED: 'false',
        RESPONDER_AUDIT__ANCHOR_INTERVAL_SECONDS: '2.5',
      },
    });
    expect(config.audit).toEqual({
      keyFile: '/run/secrets/audit-key',
      previousKeyFiles: ['/keys/2025.key', '/keys/2026.key'],
      anchorIntervalSeconds: 2.5,
      loki: { enabled: false, batchSize: 500, maxBackoffSeconds: 60 },
    });
  });

  it('ships to Loki by default, once loki.url is set', () => {
    const { audit } = loadConfig({ env: {} });
    expect(audit.keyFile).toBeUndefined();
    expect(audit).toMatchObject({ previousKeyFiles: [], anchorIntervalSeconds: 10, loki: { enabled: true } });
  });
});
