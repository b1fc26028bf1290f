import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '../../src/config/process-environment.js';
import { loadInventoryHosts, watchInventoryHosts, type InventoryWatch } from '../../src/remediation/inventory-hosts.js';

// Real ansible-inventory (installed by scripts/install-deps.sh) reading inventories written here.
describe('the inventory, listed again when it changes', () => {
  let dir: string;
  let watch: InventoryWatch | null = null;
  const logged: { level: string; message: string; data: object }[] = [];
  const log = {
    info: (data: object, message: string) => logged.push({ level: 'info', message, data }),
    warn: (data: object, message: string) => logged.push({ level: 'warn', message, data }),
  };
  const start = (inventory: string) => watchInventoryHosts({ inventory, binary: 'ansible-inventory', env: inheritedEnvironment(), intervalMs: 0, log });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'responder-inventory-'));
    logged.length = 0;
  });
  afterEach(() => {
    watch?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks up a host added to the file, and one removed, and lists nothing again while nothing changed', async () => {
    const file = join(dir, 'inventory.ini');
    writeFileSync(file, '[web]\nweb1\n');
    watch = await start(file);
    expect([...watch.current()]).toEqual(['web1']);
    expect(await watch.refresh()).toBe(false);

    writeFileSync(file, '[web]\nweb1\nweb2.example.org\n');
    expect(await watch.refresh()).toBe(true);
    expect([...watch.current()].sort()).toEqual(['web1', 'web2.example.org']);
    expect(logged.at(-1)).toMatchObject({ level: 'info', data: { added: ['web2.example.org'], removed: [] } });

    writeFileSync(file, '[web]\nweb2.example.org\n');
    expect(await watch.refresh()).toBe(true);
    expect([...watch.current()]).toEqual(['web2.example.org']);
  });

  it('keeps the hosts it had when an edit leaves the inventory unparsable, and takes the fix', async () => {
    const file = join(dir, 'inventory.yml');
    writeFileSync(file, 'all:\n  hosts:\n    web1:\n');
    watch = await start(file);
    expect([...watch.current()]).toEqual(['web1']);

    writeFileSync(file, 'all:\n  hosts: [web1\n');
    expect(await watch.refresh()).toBe(false);
    expect([...watch.current()]).toEqual(['web1']);
    expect(logged.at(-1)).toMatchObject({ level: 'warn', message: expect.stringMatching(/cannot be listed; host inputs are still checked against the hosts listed before/) });
    // Not listed again for the same broken content on every check.
    expect(await watch.refresh()).toBe(false);
    expect(logged.filter((l) => l.level === 'warn')).toHaveLength(1);

    writeFileSync(file, 'all:\n  hosts:\n    web1:\n    db1:\n');
    expect(await watch.refresh()).toBe(true);
    expect([...watch.current()].sort()).toEqual(['db1', 'web1']);
  });

  it('follows a host file added to an inventory directory', async () => {
    writeFileSync(join(dir, 'web'), '[web]\nweb1\n');
    watch = await start(dir);
    expect([...watch.current()]).toEqual(['web1']);
    writeFileSync(join(dir, 'db'), '[db]\ndb1\n');
    expect(await watch.refresh()).toBe(true);
    expect([...watch.current()].sort()).toEqual(['db1', 'web1']);
  });

  it('refuses to start on an inventory Ansible cannot parse, instead of an empty host list', async () => {
    const file = join(dir, 'inventory.yml');
    writeFileSync(file, 'all:\n  hosts: [web1\n');
    await expect(loadInventoryHosts({ inventory: file, binary: 'ansible-inventory', env: inheritedEnvironment() })).rejects.toThrow(/cannot list the hosts of inventory .*inventory\.yml with ansible-inventory/);
  });
});
