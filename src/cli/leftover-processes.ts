import { readdirSync, readFileSync } from 'node:fs';

/** pid → process group of every live process whose command line contains `text` (none without /proc). */
function processesMentioning(text: string): Map<number, number> {
  const found = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state ppid pgrp ...
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') found.set(Number(entry), Number(group));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // Already gone.
  }
}

/**
 * Stops what still runs out of `directory` (a playbook the demo's service started before it was
 * interrupted, with everything in its process group): SIGTERM, then SIGKILL after `graceMs`.
 */
export async function stopProcessesMentioning(directory: string, graceMs = 3000): Promise<void> {
  const deadline = Date.now() + graceMs;
  let strike: NodeJS.Signals = 'SIGTERM';
  for (;;) {
    const found = processesMentioning(directory);
    if (found.size === 0) return;
    // A group leader (a playbook runs in a group of its own) takes its whole group with it.
    for (const [pid, group] of found) signal(group === pid ? -pid : pid, strike);
    if (strike === 'SIGKILL' && Date.now() > deadline + 2000) return;
    await new Promise((r) => setTimeout(r, 200));
    if (Date.now() > deadline) strike = 'SIGKILL';
  }
}
