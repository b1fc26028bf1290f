import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeSystemctl {
  /** Put first on PATH: ansible's systemd module finds systemctl there. */
  binDir: string;
  /** The state-changing calls it received, e.g. ['restart cron']. */
  changes(): string[];
}

/**
 * A `systemctl` for machines without systemd (CI, containers): every unit is loaded and running, and a
 * restart is only written down. Lets the shipped playbooks dry-run and run for real here. A unit listed
 * in `failingUnits` fails to start, restart or reload, as a unit with a broken config does.
 */
export function fakeSystemctl(directory: string, options: { failingUnits?: readonly string[] } = {}): FakeSystemctl {
  const binDir = join(directory, 'fake-systemctl-bin');
  const log = join(directory, 'systemctl-changes.log');
  mkdirSync(binDir, { recursive: true });
  const script = join(binDir, 'systemctl');
  writeFileSync(
    script,
    `#!/bin/sh
# The unit is the last argument (after any "--"); the systemd module quotes it.
for argument; do unit=$argument; done
unit=$(printf '%s' "$unit" | tr -d "'")
case " ${(options.failingUnits ?? []).join(' ')} " in *" \${unit%.service} "*) failing=1 ;; *) failing= ;; esac
case "$1" in
  show) printf 'Id=%s.service\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\nUnitFileState=enabled\\n' "$unit" ;;
  is-enabled) echo enabled ;;
  is-active) if [ -n "$failing" ]; then echo failed; exit 3; fi; echo active ;;
  start|stop|restart|reload)
    if [ -n "$failing" ]; then echo "Job for $unit.service failed because the control process exited with error code." >&2; exit 1; fi
    echo "$1 $unit" >> "${log}" ;;
esac
exit 0
`,
  );
  chmodSync(script, 0o755);
  return {
    binDir,
    changes: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}
