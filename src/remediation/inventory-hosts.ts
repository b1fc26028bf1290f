import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { CatalogError } from '../domain/errors.js';

const run = promisify(execFile);

// `ansible-inventory --list`: {"_meta": {"hostvars": {host: vars}}, "<group>": {"hosts": [...], "children": [...]}}
const InventoryListSchema = z.record(z.object({ hosts: z.array(z.string()).optional(), hostvars: z.record(z.unknown()).optional() }).passthrough());

/**
 * Every host the inventory names, as Ansible itself reads it (INI, YAML, plugins): a host input must be
 * exactly one of these, never a group, a pattern or `all`. An inline list ("web1,web2,") is split here.
 */
export async function loadInventoryHosts(options: { inventory: string; binary: string; env: Record<string, string> }): Promise<string[]> {
  if (options.inventory.includes(',')) return [...new Set(options.inventory.split(',').map((h) => h.trim()).filter(Boolean))];
  let stdout: string;
  try {
    ({ stdout } = await run(options.binary, ['-i', options.inventory, '--list'], { timeout: 30_000, env: { ...options.env, ANSIBLE_NOCOLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    throw new CatalogError('inventory_unreadable', `cannot list the hosts of inventory ${options.inventory} with ${options.binary}: ${(error as Error).message}`);
  }
  const parsed = InventoryListSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new CatalogError('inventory_unreadable', `${options.binary} --list answered in an unexpected shape for ${options.inventory}`);
  const hosts = new Set<string>();
  for (const [group, entry] of Object.entries(parsed.data)) {
    if (group === '_meta') for (const host of Object.keys(entry.hostvars ?? {})) hosts.add(host);
    for (const host of entry.hosts ?? []) hosts.add(host);
  }
  return [...hosts].sort();
}
