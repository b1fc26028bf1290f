import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { CatalogError } from '../domain/errors.js';

const run = promisify(execFile);

// `ansible-inventory --list`: {"_meta": {"hostvars": {host: vars}}, "<group>": {"hosts": [...], "children": [...]}}
const InventoryListSchema = z.record(z.object({ hosts: z.array(z.string()).optional(), hostvars: z.record(z.unknown()).optional() }).passthrough());

/**
 * Every host the inventory names, as Ansible itself reads it (INI, YAML, plugins): a host input must be
 * exactly one of these, never a group, a pattern or `all`. An inline list ("web1,web2,") is split here.
 * An inventory Ansible cannot parse at all is an error, not the empty list it would otherwise answer.
 */
export async function loadInventoryHosts(options: { inventory: string; binary: string; env: Record<string, string> }): Promise<string[]> {
  if (options.inventory.includes(',')) return [...new Set(options.inventory.split(',').map((h) => h.trim()).filter(Boolean))];
  let stdout: string;
  try {
    ({ stdout } = await run(options.binary, ['-i', options.inventory, '--list'], { timeout: 30_000, env: { ...options.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True' }, maxBuffer: 64 * 1024 * 1024 }));
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

/** The inventory's hosts as they are now: a `host` input must be exactly one of them. */
export interface InventoryHosts {
  current(): ReadonlySet<string>;
}

export interface InventoryWatch extends InventoryHosts {
  /** Lists the hosts again if the inventory's files changed since; true when the list was replaced. */
  refresh(): Promise<boolean>;
  stop(): void;
}

// A directory inventory (hosts files, group_vars, host_vars) is walked this deep and this far, no further.
const MAX_DEPTH = 4;
const MAX_ENTRIES = 2000;

/**
 * Name, size and modification time of the inventory file, or of every file under an inventory directory:
 * what an edit changes. Null when the path does not exist (an editor replacing the file in between).
 */
function inventorySignature(path: string): string | null {
  const parts: string[] = [];
  const visit = (at: string, depth: number) => {
    if (parts.length >= MAX_ENTRIES) return;
    const stat = statSync(at, { throwIfNoEntry: false });
    if (!stat) return;
    parts.push(`${at}\u0000${stat.size}\u0000${stat.mtimeMs}`);
    if (stat.isDirectory() && depth < MAX_DEPTH) for (const name of readdirSync(at).sort()) visit(join(at, name), depth + 1);
  };
  if (!statSync(path, { throwIfNoEntry: false })) return null;
  visit(path, 0);
  return parts.join('\n');
}

/**
 * The inventory's hosts, listed at start and again whenever its files change (checked every `intervalMs`;
 * 0 never checks). A listing that fails keeps the hosts as they were and says so; it is tried again once
 * the files change again. An inline list ("web1,web2,") never changes. A dynamic inventory whose hosts
 * change without its files changing is listed again at the next restart, or when its file is touched.
 */
export async function watchInventoryHosts(options: {
  inventory: string;
  binary: string;
  env: Record<string, string>;
  intervalMs: number;
  log: { info(data: object, message: string): void; warn(data: object, message: string): void };
}): Promise<InventoryWatch> {
  const { inventory, log } = options;
  const inline = inventory.includes(',');
  let tried = inline ? null : inventorySignature(inventory);
  let hosts: ReadonlySet<string> = new Set(await loadInventoryHosts(options));
  let refreshing: Promise<boolean> | null = null;

  const relist = async (): Promise<boolean> => {
    const signature = inventorySignature(inventory);
    if (signature === null || signature === tried) return false;
    tried = signature;
    let listed: string[];
    try {
      listed = await loadInventoryHosts(options);
    } catch (error) {
      log.warn({ err: error, inventory }, 'the inventory changed but cannot be listed; host inputs are still checked against the hosts listed before');
      return false;
    }
    const added = listed.filter((host) => !hosts.has(host));
    const removed = [...hosts].filter((host) => !listed.includes(host));
    hosts = new Set(listed);
    log.info({ inventory, hosts: listed.length, added: added.slice(0, 20), removed: removed.slice(0, 20) }, 'inventory listed again after it changed');
    return true;
  };
  // One listing at a time: a slow ansible-inventory is not started again by the next tick.
  const refresh = () => {
    if (inline) return Promise.resolve(false);
    refreshing ??= relist().finally(() => (refreshing = null));
    return refreshing;
  };
  const timer = !inline && options.intervalMs > 0 ? setInterval(() => void refresh(), options.intervalMs) : null;
  timer?.unref();
  return {
    current: () => hosts,
    refresh,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
