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
 * restart is only written down. Lets the shipped restart-service playbook dry-run and run for real here.
 */
export function fakeSystemctl(directory: string): FakeSystemctl {
  const binDir = join(directory, 'fake-systemctl-bin');
  const log = join(directory, 'systemctl-changes.log');
  mkdirSync(binDir, { recursive: true });
  const script = join(binDir, 'systemctl');
  writeFileSync(
    script,
    `#!/bin/sh
unit=$(printf '%s' "$2" | tr -d "'")
case "$1" in
  show) printf 'Id=%s.service\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\nUnitFileState=enabled\\n' "$unit" ;;
  is-enabled) echo enabled ;;
  is-active) echo active ;;
  start|stop|restart|reload) echo "$1 $unit" >> "${log}" ;;
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
