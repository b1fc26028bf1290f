import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from '../support/responder-harness.js';

it('`responder demo` runs the whole loop offline and prints the story', () => {
  const result = spawnSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), 'demo'], { encoding: 'utf8', timeout: 240_000 });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/202 Accepted: incident [0-9a-f-]{36}/);
  expect(result.stdout).toMatch(/final state RESOLVED/);
  expect(result.stdout).toMatch(/demo-auto-approver \(responder demo; not a person\)\s+approves round 1: /);
  expect(result.stdout).toMatch(/asks 1 person\(s\) to approve restart-process \{/);
  expect(result.stdout).toMatch(/execute of restart-process → succeeded \(exit 0\)/);
  expect(result.stdout).toMatch(/restarted by the real ansible-playbook/);
  expect(result.stdout).toMatch(/Audit chain verified: 17 events/);
}, 300_000);
