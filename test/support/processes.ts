import { readdirSync, readFileSync } from 'node:fs';

/** Live processes whose command line contains `text`, as "pid: command line", for leftover checks. */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\u0000').join(' ').trim();
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      // A zombie has exited already; it only waits for its parent to read its status.
      if (commandLine.includes(text) && state !== 'Z') found.push(`${entry}: ${commandLine}`);
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}
