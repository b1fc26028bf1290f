/** One host's line of ansible-playbook's PLAY RECAP. */
export interface RecapHost {
  host: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

const RECAP_LINE = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/;

/**
 * The hosts of the last PLAY RECAP, summed per host over the plays. Empty when no host was matched:
 * ansible-playbook then prints "skipping: no hosts matched", an empty recap, and exits 0.
 */
export function parseRecap(output: string): RecapHost[] {
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return [];
  const hosts: RecapHost[] = [];
  for (const line of output.slice(start).split('\n').slice(1)) {
    const match = RECAP_LINE.exec(line.trim());
    if (!match) continue;
    const [, host, ok, changed, unreachable, failed, skipped] = match;
    hosts.push({ host: host!, ok: Number(ok), changed: Number(changed), unreachable: Number(unreachable), failed: Number(failed), skipped: Number(skipped) });
  }
  return hosts;
}

/**
 * Why a playbook that exited 0 did nothing, or null when it acted on at least one host. A check-mode run
 * is only held to "some host matched": modules without check support (command, shell) are skipped there
 * by design, so a dry run of such a playbook skipping every task is expected.
 */
export function nothingDone(output: string, check: boolean): string | null {
  const hosts = parseRecap(output);
  if (hosts.length === 0) return 'no host of the inventory matched the play; nothing ran';
  if (!check && hosts.every((h) => h.ok === 0 && h.changed === 0)) {
    return `every task was skipped on ${hosts.map((h) => h.host).join(', ')}; nothing ran`;
  }
  return null;
}
