import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, targetsOf } from './catalog.js';
import { catalogVerificationQuery, renderVerificationQuery } from './verification-query.js';

const SHIPPED = join(import.meta.dirname, '..', '..', 'remediations');
const catalog = loadCatalog(SHIPPED, { inventoryHosts: ['localhost', 'web1'] });

const valid = {
  'restart-service': { service: 'nginx', host: 'web1' },
  'rollback-config': { host: 'web1', config_path: '/etc/caddy/Caddyfile', service: 'caddy' },
  'clear-disk-space': { host: 'web1', paths: ['/var/log/app', '/var/cache/apt'], min_age_days: 7 },
  'block-host': { ip: '10.0.4.15', reason: 'Suspected compromised IoT device', duration: '24h' },
  'scale-deployment': { namespace: 'media', deployment: 'jellyfin', replicas: 3 },
} as const;

describe('the shipped catalog', () => {
  it('holds the five actions, each with the inputs the seed names', () => {
    expect([...catalog.entries.keys()].sort()).toEqual(Object.keys(valid).sort());
    for (const [id, inputs] of Object.entries(valid)) expect(catalog.validateInputs(id, inputs), id).toEqual([]);
  });

  it('lets policy see every target an action names, one per path of a list', () => {
    expect(targetsOf(catalog.get('clear-disk-space')!, valid['clear-disk-space'])).toEqual([
      { input: 'host', kind: 'host', value: 'web1' },
      { input: 'paths', kind: 'path', value: '/var/log/app' },
      { input: 'paths', kind: 'path', value: '/var/cache/apt' },
    ]);
    expect(targetsOf(catalog.get('rollback-config')!, valid['rollback-config']).map((t) => t.kind)).toEqual(['path', 'service', 'host']);
    expect(targetsOf(catalog.get('scale-deployment')!, valid['scale-deployment']).map((t) => t.kind)).toEqual(['deployment', 'namespace']);
    expect(targetsOf(catalog.get('block-host')!, valid['block-host'])).toEqual([{ input: 'ip', kind: 'ip', value: '10.0.4.15' }]);
  });

  // Each hostile value, in every action that has an input of that kind, is refused by the catalog check.
  const hostile: [id: keyof typeof valid, input: string, value: unknown, why: RegExp][] = [
    ['restart-service', 'service', 'x; rm -rf /', /\/service must match pattern/],
    ['restart-service', 'service', '--root=/tmp', /\/service must match pattern/],
    ['rollback-config', 'service', 'x; rm -rf /', /\/service must match pattern/],
    ['restart-service', 'host', 'all', /\/host must name exactly one inventory host/],
    ['restart-service', 'host', 'web*', /\/host must match pattern/],
    ['clear-disk-space', 'host', 'all', /\/host must name exactly one inventory host/],
    ['rollback-config', 'host', 'localhost:web1', /\/host must match pattern/],
    ['rollback-config', 'config_path', '/etc/../root/x', /\/config_path must NOT be valid|no "\.\."/],
    ['rollback-config', 'config_path', '/root/.ssh/authorized_keys', /not under an allowed root \(\/etc\)/],
    ['rollback-config', 'config_path', '/etcetera/x', /not under an allowed root/],
    ['rollback-config', 'config_path', 'etc/caddy/Caddyfile', /must match pattern/],
    ['rollback-config', 'config_path', '/etc//caddy', /empty segment/],
    ['clear-disk-space', 'paths', ['/var/log/../../etc'], /no "\.\."/],
    ['clear-disk-space', 'paths', ['/var/log/./app'], /\.\./],
    ['clear-disk-space', 'paths', ['/home'], /not under an allowed root/],
    ['clear-disk-space', 'paths', ['/'], /not under an allowed root/],
    ['clear-disk-space', 'paths', [], /\/paths must NOT have fewer than 1 items/],
    ['clear-disk-space', 'min_age_days', 0, /\/min_age_days must be >= 1/],
    ['block-host', 'ip', '0.0.0.0/0', /\/ip must match format "ipv4"/],
    ['block-host', 'ip', '0.0.0.0', /\/ip must NOT be valid/],
    ['block-host', 'ip', '10.0.0.0/8', /\/ip must match format/],
    ['block-host', 'ip', '10.0.4.1-10.0.4.9', /\/ip must match format/],
    ['block-host', 'ip', '::', /\/ip must NOT be valid/],
    ['block-host', 'ip', '::1', /\/ip must NOT be valid/],
    ['block-host', 'ip', '127.0.0.1', /\/ip must NOT be valid/],
    ['block-host', 'ip', 'fe80::1%eth0', /\/ip must match format/],
    ['block-host', 'reason', 'x" }; flush ruleset; #', /\/reason must match pattern/],
    ['block-host', 'duration', '8d', /\/duration must match pattern/],
    ['block-host', 'duration', '169h', /\/duration must match pattern/],
    ['block-host', 'duration', 'forever', /\/duration must match pattern/],
    ['scale-deployment', 'replicas', 10000, /\/replicas must be <= 20/],
    ['scale-deployment', 'replicas', 0, /\/replicas must be >= 1/],
    ['scale-deployment', 'namespace', 'kube-system --all', /\/namespace must match pattern/],
    ['scale-deployment', 'deployment', 'a/../b', /\/deployment must match pattern/],
  ];
  it.each(hostile)('%s refuses %s = %j', (id, input, value, why) => {
    const problems = catalog.validateInputs(id, { ...valid[id], [input]: value });
    expect(problems.join('\n')).toMatch(why);
  });

  it('refuses a 10 kB string in every string input', () => {
    const long = 'a'.repeat(10 * 1024);
    for (const [id, inputs] of Object.entries(valid)) {
      for (const [input, value] of Object.entries(inputs)) {
        if (typeof value !== 'string') continue;
        expect(catalog.validateInputs(id, { ...inputs, [input]: long }).join('\n'), `${id}.${input}`).toMatch(new RegExp(`/${input} must NOT have more than \\d+ characters`));
      }
    }
    expect(catalog.validateInputs('clear-disk-space', { ...valid['clear-disk-space'], paths: [`/var/log/${long}`] }).join('\n')).toMatch(/must NOT have more than 1024 characters/);
  });

  it('refuses inputs the action does not have', () => {
    expect(catalog.validateInputs('block-host', { ...valid['block-host'], table: 'ip filter' })).toContain('(inputs) must NOT have additional properties');
  });
});

describe('catalog entries the loader refuses', () => {
  const directory = mkdtempSync(join(tmpdir(), 'responder-catalog-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function entry(settings: string): void {
    writeFileSync(join(directory, 'noop.yml'), '- hosts: localhost\n  tasks: []\n');
    writeFileSync(
      join(directory, 'bad.yaml'),
      `id: bad
title: Bad
type: restart
risk: low
targetType: host
targetInput: host
targets: { host: host, dir: path }
executor: ansible
playbook: noop.yml
inputs: { type: object, properties: { host: { type: string }, dir: { type: string } } }
${settings}`,
    );
  }

  it('a root that is not a canonical absolute path', () => {
    entry('pathRoots: { dir: [/var/../etc] }\n');
    expect(() => loadCatalog(directory, { inventoryHosts: [] })).toThrow(/pathRoots\.dir\.0: roots must be canonical absolute paths/);
  });

  it('roots on an input that is not a path target', () => {
    entry('pathRoots: { host: [/tmp] }\n');
    expect(() => loadCatalog(directory, { inventoryHosts: [] })).toThrow(/pathRoots names host, which is not a path target/);
  });

  it('a verification query naming an input the action does not have', () => {
    entry(`verification: { query: 'up{instance="{{ hostname }}"} == 0' }\n`);
    expect(() => loadCatalog(directory, { inventoryHosts: [] })).toThrow(/verification\.query uses \{\{ hostname \}\}, which is not one of the input properties/);
  });
});

describe('verification queries', () => {
  it('fill inputs as escaped PromQL strings and numbers, so an input cannot change the query', () => {
    expect(renderVerificationQuery(catalog.get('scale-deployment')!.verification!.query, valid['scale-deployment'])).toBe(
      'kube_deployment_status_replicas_available{namespace="media", deployment="jellyfin"} < 3',
    );
    expect(renderVerificationQuery(catalog.get('restart-service')!.verification!.query, { service: 'postgresql@16-main.service' })).toBe(
      'node_systemd_unit_state{name=~"postgresql@16-main\\\\.service(\\\\.service)?", state="active"} == 0',
    );
    expect(renderVerificationQuery('up{job="{{ job }}"}', { job: 'x"} or vector(1) #' })).toBe('up{job="x\\"} or vector(1) #"}');
    expect(renderVerificationQuery('up{job="{{ job }}"}', {})).toBeNull();
  });

  it('come from the entry that ran, and block-host has none', () => {
    expect(catalogVerificationQuery(catalog.get('rollback-config')!, valid['rollback-config'])).toBe('node_systemd_unit_state{name=~"caddy(\\\\.service)?", state="active"} == 0');
    expect(catalogVerificationQuery(catalog.get('block-host')!, valid['block-host'])).toBeNull();
  });
});
