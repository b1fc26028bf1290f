import { readdirSync, readFileSync } from 'node:fs';

/** Parent of every live process, from /proc; empty where there is no /proc. */
function parents(): Map<number, number> {
  const found = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name in parentheses may hold spaces; the parent pid is the second field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.set(Number(entry), ppid);
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/**
 * Adds to `known` every live descendant of `root` and of the processes already in `known`. A process
 * group is not enough: some programs a playbook runs start their own group, and a killed parent's
 * children are re-parented away, so the tree is collected while it is still whole and kept.
 */
export function collectProcessTree(root: number, known: Set<number>): void {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const queue = [root, ...known];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (known.has(child)) continue;
      known.add(child);
      queue.push(child);
    }
  }
}

export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
