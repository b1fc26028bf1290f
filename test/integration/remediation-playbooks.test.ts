import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '../../src/config/process-environment.js';
import type { JsonObject } from '../../src/domain/json-value.js';
import { createAnsibleExecutor } from '../../src/execution/ansible-executor.js';
import type { ExecutionResult, Executor } from '../../src/execution/executor.js';
import { loadCatalog, type Catalog } from '../../src/remediation/catalog.js';
import { loadInventoryHosts } from '../../src/remediation/inventory-hosts.js';
import { fakeSystemctl, type FakeSystemctl } from '../support/fake-systemctl.js';
import { catalogUnderRoot, createNetworkNamespace, fakeKubectl, networkNamespacesAvailable, type FakeKubectl, type NetworkNamespace } from '../support/remediation-target.js';
import { REPO } from '../support/responder-harness.js';

// Each shipped playbook, run by the real ansible-playbook through the ansible executor against a target
// the test owns: the local connection into a scratch root, with systemctl and kubectl stand-ins on PATH
// and, for block-host, the kernel's real nftables in a network namespace the test creates.

let scratch: string;
let root: string;
let catalog: Catalog;
let executor: Executor;
let systemctl: FakeSystemctl;
let kubectl: FakeKubectl;
let netns: NetworkNamespace | null = null;
const namespaces = networkNamespacesAvailable();

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-playbooks-'));
  root = join(scratch, 'root');
  mkdirSync(root);
  catalogUnderRoot(join(REPO, 'remediations'), join(scratch, 'catalog'), root);
  const inventory = join(scratch, 'inventory.ini');
  writeFileSync(
    inventory,
    ['web1 ansible_connection=local ansible_python_interpreter=auto_silent', '[responder_firewall]', 'fw1 ansible_connection=local ansible_python_interpreter=auto_silent', ''].join('\n'),
  );
  const inventoryHosts = await loadInventoryHosts({ inventory, binary: 'ansible-inventory', env: inheritedEnvironment() });
  catalog = loadCatalog(join(scratch, 'catalog'), { inventoryHosts });
  systemctl = fakeSystemctl(scratch, { failingUnits: ['broken'] });
  kubectl = fakeKubectl(scratch);
  if (namespaces.ok) netns = createNetworkNamespace(join(scratch, 'firewall'));
  const binDirs = [systemctl.binDir, kubectl.binDir, ...(netns ? [netns.binDir] : [])];
  executor = createAnsibleExecutor({
    binary: 'ansible-playbook',
    inventory,
    timeoutSeconds: 120,
    inheritedEnv: inheritedEnvironment(),
    env: { PATH: [...binDirs, inheritedEnvironment().PATH ?? '/usr/bin:/bin'].join(':') },
  });
}, 60_000);

afterAll(() => {
  netns?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** Validates like the workflow does (a refused input never reaches ansible), then runs or dry-runs. */
async function run(id: string, inputs: JsonObject, mode: 'run' | 'dry-run' = 'run'): Promise<ExecutionResult> {
  expect(catalog.validateInputs(id, inputs)).toEqual([]);
  const plan = { entry: catalog.get(id)!, inputs, runId: `${id}-${mode}` };
  return mode === 'run' ? executor.run(plan) : executor.dryRun(plan);
}

const DAY = 24 * 3600 * 1000;

function file(path: string, content: string, ageDays = 0): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  const when = new Date(Date.now() - ageDays * DAY);
  utimesSync(path, when, when);
  return path;
}

describe('restart-service', () => {
  it('restarts the unit and checks it is active again', async () => {
    const result = await run('restart-service', { service: 'nginx', host: 'web1' });
    expect(result.outcome, result.output).toBe('succeeded');
    expect(systemctl.changes()).toContain('restart nginx');
  });

  it('fails when the unit does not come back', async () => {
    const result = await run('restart-service', { service: 'broken', host: 'web1' });
    expect(result.outcome).toBe('failed');
    expect(result.output).toMatch(/Job for broken\.service failed/);
  });

  it('dry-run reports the restart and restarts nothing', async () => {
    const before = systemctl.changes();
    const result = await run('restart-service', { service: 'cron.service', host: 'web1' }, 'dry-run');
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toMatch(/changed: \[web1\]/);
    expect(systemctl.changes()).toEqual(before);
  });
});

describe('rollback-config', () => {
  let config: string;
  const bad = 'example.com {\n  reverse_proxy localhost:8080 {{ broken\n}\n';
  // Text that looks like Jinja or shell must come back byte for byte, never evaluated.
  const good = 'example.com {\n  reverse_proxy {$UPSTREAM} localhost:8080 # {{ ansible_host }} $(touch /tmp/x)\n}\n';

  beforeAll(() => {
    config = file(join(root, 'etc/caddy/Caddyfile'), bad);
    file(`${config}.previous`, good);
  });

  it('dry-run shows the diff and changes no file and no service', async () => {
    const before = systemctl.changes();
    const result = await run('rollback-config', { host: 'web1', config_path: config, service: 'caddy' }, 'dry-run');
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toContain('-  reverse_proxy localhost:8080 {{ broken');
    expect(result.output).toContain('+  reverse_proxy {$UPSTREAM} localhost:8080 # {{ ansible_host }} $(touch /tmp/x)');
    expect(readFileSync(config, 'utf8')).toBe(bad);
    expect(existsSync(`${config}.rolled-back`)).toBe(false);
    expect(systemctl.changes()).toEqual(before);
  });

  it('restores the previous version, keeps the replaced one beside it and reloads the service; a second run changes nothing', async () => {
    const result = await run('rollback-config', { host: 'web1', config_path: config, service: 'caddy' });
    expect(result.outcome, result.output).toBe('succeeded');
    expect(readFileSync(config, 'utf8')).toBe(good);
    expect(readFileSync(`${config}.rolled-back`, 'utf8')).toBe(bad);
    expect(systemctl.changes().filter((c) => c === 'reload caddy')).toHaveLength(1);

    const again = await run('rollback-config', { host: 'web1', config_path: config, service: 'caddy' });
    expect(again.outcome, again.output).toBe('succeeded');
    expect(again.output).toMatch(/changed=0/);
    expect(systemctl.changes().filter((c) => c === 'reload caddy')).toHaveLength(1);
  });

  it('fails, changing nothing, when no previous version was kept', async () => {
    const lonely = file(join(root, 'etc/app/app.conf'), 'current\n');
    const result = await run('rollback-config', { host: 'web1', config_path: lonely, service: 'app' });
    expect(result.outcome).toBe('failed');
    expect(result.output).toContain(`no previous version of ${lonely} was kept beside it`);
    expect(readFileSync(lonely, 'utf8')).toBe('current\n');
    expect(systemctl.changes()).not.toContain('reload app');
  });

  it('refuses a path under the root that is a symlink to a file elsewhere', async () => {
    const outside = file(join(scratch, 'elsewhere/shadow'), 'secret\n');
    file(`${outside}.previous`, 'attacker\n');
    const link = join(root, 'etc/linked.conf');
    symlinkSync(outside, link);
    const result = await run('rollback-config', { host: 'web1', config_path: link, service: 'app' });
    expect(result.outcome).toBe('failed');
    expect(result.output).toContain('refusing to follow a symlink');
    expect(readFileSync(outside, 'utf8')).toBe('secret\n');
  });

  it('a reload that fails fails the run', async () => {
    const conf = file(join(root, 'etc/broken/broken.conf'), 'new\n');
    file(`${conf}.previous`, 'old\n');
    const result = await run('rollback-config', { host: 'web1', config_path: conf, service: 'broken' });
    expect(result.outcome).toBe('failed');
    expect(result.output).toMatch(/Job for broken\.service failed/);
  });
});

describe('clear-disk-space', () => {
  let logs: string;
  let oldLog: string;
  let hiddenOld: string;
  let newLog: string;
  let outsideOld: string;

  beforeAll(() => {
    logs = join(root, 'var/log/app');
    oldLog = file(join(logs, 'debug.log.1'), 'x'.repeat(3000), 30);
    hiddenOld = file(join(logs, 'nested/.old-cache'), 'y'.repeat(500), 10);
    newLog = file(join(logs, 'current.log'), 'z'.repeat(100), 0);
    // A symlink inside the allowed directory pointing out of it: nothing behind it may be touched.
    outsideOld = file(join(scratch, 'precious/data.db'), 'keep', 400);
    symlinkSync(join(scratch, 'precious'), join(logs, 'escape'));
  });

  it('dry-run lists what it would remove and the bytes it would free, and removes nothing', async () => {
    const result = await run('clear-disk-space', { host: 'web1', paths: [logs], min_age_days: 7 }, 'dry-run');
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toContain('would free 3500 bytes in 2 files');
    expect(result.output).toContain(oldLog);
    expect(result.output).not.toContain(newLog);
    for (const path of [oldLog, hiddenOld, newLog, outsideOld]) expect(existsSync(path), path).toBe(true);
  });

  it('removes files older than min_age_days, reports the bytes freed, and never follows a symlink out', async () => {
    const result = await run('clear-disk-space', { host: 'web1', paths: [logs], min_age_days: 7 });
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toContain('freed 3500 bytes in 2 files');
    expect(existsSync(oldLog)).toBe(false);
    expect(existsSync(hiddenOld)).toBe(false);
    expect(existsSync(newLog)).toBe(true);
    expect(readFileSync(outsideOld, 'utf8')).toBe('keep');
  });

  it('fails, removing nothing, when a directory does not exist or is a symlink', async () => {
    const kept = file(join(root, 'var/cache/app/old.bin'), 'c', 90);
    const missing = await run('clear-disk-space', { host: 'web1', paths: [join(root, 'var/cache/app'), join(root, 'var/log/none')], min_age_days: 1 });
    expect(missing.outcome).toBe('failed');
    expect(existsSync(kept)).toBe(true);
    const viaLink = await run('clear-disk-space', { host: 'web1', paths: [join(logs, 'escape')], min_age_days: 1 });
    expect(viaLink.outcome).toBe('failed');
    expect(readFileSync(outsideOld, 'utf8')).toBe('keep');
  });
});

describe('scale-deployment (kubectl stand-in: no Kubernetes here)', () => {
  beforeAll(() => kubectl.deploy('media', 'jellyfin', 1));

  it('dry-run asks the API server with --dry-run=server, shows the change and scales nothing', async () => {
    const result = await run('scale-deployment', { namespace: 'media', deployment: 'jellyfin', replicas: 3 }, 'dry-run');
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toContain('media/jellyfin replicas: 1 -> 3');
    expect(kubectl.calls()).toContain('scale deployment/jellyfin --namespace=media --replicas=3 --current-replicas=1 --dry-run=server');
    expect(kubectl.replicas('media', 'jellyfin')).toBe(1);
  });

  it('scales only from the count it read, then waits for the rollout', async () => {
    const result = await run('scale-deployment', { namespace: 'media', deployment: 'jellyfin', replicas: 3 });
    expect(result.outcome, result.output).toBe('succeeded');
    expect(kubectl.replicas('media', 'jellyfin')).toBe(3);
    expect(kubectl.calls().at(-1)).toBe('rollout status deployment/jellyfin --namespace=media --timeout=300s');
  });

  it('fails when the deployment does not exist', async () => {
    const result = await run('scale-deployment', { namespace: 'media', deployment: 'sonarr', replicas: 2 });
    expect(result.outcome).toBe('failed');
    expect(result.output).toMatch(/deployments\.apps \\?"sonarr\\?" not found/);
  });
});

describe.skipIf(!namespaces.ok)(`block-host (real nftables in a network namespace${namespaces.ok ? '' : `; skipped: ${namespaces.reason}`})`, () => {
  const inputs = { ip: '10.0.4.15', reason: 'Suspected compromised IoT device', duration: '24h' };

  /** Whether a TCP connection from `source` to a listener on 10.0.4.20 inside the namespace gets through. */
  function connects(source: string): boolean {
    const probe = `
import socket, threading
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("10.0.4.20", 8080)); server.listen(1)
threading.Thread(target=lambda: server.accept(), daemon=True).start()
client = socket.socket(); client.settimeout(1); client.bind((${JSON.stringify(source)}, 0))
try:
    client.connect(("10.0.4.20", 8080)); print("connected")
except OSError:
    print("dropped")
`;
    return netns!.run(['python3', '-c', probe]).trim() === 'connected';
  }

  beforeAll(() => {
    netns!.run(['ip', 'link', 'set', 'lo', 'up']);
    for (const address of ['10.0.4.15/32', '10.0.4.16/32', '10.0.4.20/32']) netns!.run(['ip', 'addr', 'add', address, 'dev', 'lo']);
  });

  it('dry-run on a firewall without the table changes no rule', async () => {
    const result = await run('block-host', inputs, 'dry-run');
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toMatch(/would add element \{ 10\.0\.4\.15 timeout 24h comment \\?"Suspected compromised IoT device\\?" \}/);
    expect(netns!.run(['nft', 'list', 'ruleset'])).toBe('');
    expect(connects('10.0.4.15')).toBe(true);
  });

  it('blocks the address with an expiring element: its traffic is dropped, others pass', async () => {
    const result = await run('block-host', inputs);
    expect(result.outcome, result.output).toBe('succeeded');
    const set = netns!.run(['nft', 'list', 'set', 'inet', 'responder', 'blocked_ipv4']);
    expect(set).toMatch(/10\.0\.4\.15 timeout 1d expires \S+ comment "Suspected compromised IoT device"/);
    expect(connects('10.0.4.15')).toBe(false);
    expect(connects('10.0.4.16')).toBe(true);
  });

  it('dry-run on an existing table checks the command with nft --check and adds nothing', async () => {
    const result = await run('block-host', { ...inputs, ip: '10.0.4.16', duration: '30m' }, 'dry-run');
    expect(result.outcome, result.output).toBe('succeeded');
    expect(result.output).toContain('would add element { 10.0.4.16 timeout 30m');
    expect(netns!.run(['nft', 'list', 'set', 'inet', 'responder', 'blocked_ipv4'])).not.toContain('10.0.4.16');
  });

  it('blocks an IPv6 address in its own set', async () => {
    const result = await run('block-host', { ...inputs, ip: '2001:db8::15', duration: '7d' });
    expect(result.outcome, result.output).toBe('succeeded');
    expect(netns!.run(['nft', 'list', 'set', 'inet', 'responder', 'blocked_ipv6'])).toMatch(/2001:db8::15 timeout 7d/);
  });

  it('fails when the firewall holds a conflicting set, and says what nft said', async () => {
    netns!.run(['nft', 'flush', 'ruleset']);
    // A set of the same name without timeouts, as an operator's own table might have.
    netns!.run(['nft', '-f', '-'], 'table inet responder { set blocked_ipv4 { type ipv4_addr; }; }\n');
    const result = await run('block-host', inputs);
    expect(result.outcome).toBe('failed');
    expect(result.output).toContain('Error: Could not process rule: Invalid argument');
    expect(connects('10.0.4.15')).toBe(true);
  });
});

it('every shipped action is exercised above', () => {
  expect([...catalog.entries.keys()].sort()).toEqual(['block-host', 'clear-disk-space', 'restart-service', 'rollback-config', 'scale-deployment']);
  expect(spawnSync('ansible-playbook', ['--version']).status).toBe(0);
});
