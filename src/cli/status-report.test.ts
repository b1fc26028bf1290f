import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/config.schema.js';
import { statusReport, type StatusFacts } from './status-report.js';

const down: StatusFacts = { configFile: undefined, intakeKey: null, servePid: null, service: { kind: 'down', url: 'http://127.0.0.1:8080', detail: 'nothing listens there' } };

describe('responder status', () => {
  it('on the defaults names each missing piece with the lines to add', () => {
    const text = statusReport(ConfigSchema.parse({}), down).join('\n');
    expect(text).toContain('missing  no config file');
    expect(text).toContain('responder init');
    expect(text).toMatch(/missing {2}no route: .*\n.*add to the config:\n {11}routes:\n {11} {2}- name: agentic\n {11} {4}matchers: \['agentic="true"'\]\n {11} {4}mode: approve/);
    expect(text).toMatch(/missing {2}no token: nobody can read incidents or approve\n.*\n {11}auth:\n {11} {2}tokens:\n {11} {4}- you:sha256:<hex>:admin/);
    expect(text).toMatch(/missing {2}no Prometheus: .*\n.*\n {11}prometheus:\n {11} {2}url: http:\/\/127\.0\.0\.1:9090/);
    expect(text).toMatch(/missing {2}no model \(no agent\.apiKey for Anthropic.*\n.*\n {11}agent:\n {11} {2}apiKey: sk-ant-/);
    expect(text).toContain('missing  service: not running at http://127.0.0.1:8080 (nothing listens there); start it with: responder serve');
  });

  it('says what a complete config has, and where the webhooks go, with the running service', () => {
    const config = ConfigSchema.parse({
      server: { host: '0.0.0.0', port: 9000, publicUrl: 'https://responder.example.org/' },
      intake: { key: 'k3y' },
      auth: { tokens: ['alice:0123456789abcdef0123:admin', 'grafana:0123456789abcdef0123x:viewer'] },
      routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' }],
      prometheus: { url: 'http://prometheus:9090' },
      loki: { url: 'http://loki:3100' },
      agent: { apiKey: 'sk-ant-x' },
    });
    const lines = statusReport(config, { configFile: 'responder.yaml', intakeKey: { source: 'config', key: 'k3y' }, servePid: 4242, service: { kind: 'ready', url: 'http://127.0.0.1:9000' } });
    expect(lines.filter((line) => line.startsWith('missing'))).toEqual([]);
    expect(lines).toContain('ok       who can decide: alice (admin), grafana (viewer)');
    expect(lines).toContain('ok       service: ready at http://127.0.0.1:9000 (pid 4242)');
    expect(lines).toContain('  Alertmanager  https://responder.example.org/hooks/alertmanager/k3y');
  });

  it('says where Matrix cards go and who decides there, and when nobody there can', () => {
    const matrix = { homeserverUrl: 'https://matrix.example.org', accessToken: 'syt_x', roomId: '!room:example.org' };
    const withApprover = ConfigSchema.parse({ matrix: { ...matrix, users: [{ matrixId: '@alice:example.org', name: 'alice' }] }, notify: { ntfy: [{ name: 'phone', url: 'https://ntfy.sh/t' }] } });
    const lines = statusReport(withApprover, down);
    expect(lines).toContain('ok       Matrix: bot on https://matrix.example.org in !room:example.org; decide: alice (@alice:example.org)');
    expect(lines).toContain('ok       notifications: ntfy phone');
    const viewersOnly = ConfigSchema.parse({ matrix: { ...matrix, users: [{ matrixId: '@vera:example.org', name: 'vera', role: 'viewer' }] } });
    expect(statusReport(viewersOnly, down)).toContain("missing  Matrix: bot on https://matrix.example.org in !room:example.org, but no approver in matrix.users: nobody's ✅ counts");
  });

  it('does not count viewers as people who can approve', () => {
    const config = ConfigSchema.parse({ auth: { tokens: ['grafana:0123456789abcdef0123:viewer'] } });
    expect(statusReport(config, down)).toContain('missing  no approver: every token is a viewer, nobody can approve');
  });
});
