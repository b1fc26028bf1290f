import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inheritedEnvironment } from '../../src/config/process-environment.js';
import { createAnsibleExecutor } from '../../src/execution/ansible-executor.js';
import { loadCatalog, type Catalog } from '../../src/remediation/catalog.js';

let dir: string;
let catalog: Catalog;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'responder-ansible-'));
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local ansible_python_interpreter=auto_silent\n');
  writeFileSync(
    join(dir, 'write-note.yaml'),
    `id: write-note
title: Write a note
type: restart
risk: low
targetType: service
targetInput: service
targets: { service: service }
executor: ansible
playbook: write-note.yml
inputs:
  type: object
  properties:
    service: { type: string }
    path: { type: string }
    text: { type: string }
    seconds: { type: integer }
`,
  );
  writeFileSync(
    join(dir, 'write-note.yml'),
    `- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        dest: "{{ path }}"
        content: "{{ text }}"
    - ansible.builtin.command:
        argv: [sleep, "{{ seconds | default(0) }}"]
`,
  );
  // A command that leaves the playbook's process group, as daemons and some tools do.
  writeFileSync(
    join(dir, 'escape-group.yaml'),
    `id: escape-group
title: Start a process in its own session
type: restart
risk: low
targetType: service
targetInput: service
targets: { service: service }
executor: ansible
playbook: escape-group.yml
inputs:
  type: object
  properties:
    service: { type: string }
    marker: { type: string }
`,
  );
  writeFileSync(
    join(dir, 'escape-group.yml'),
    `- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.command:
        argv: [setsid, sh, -c, 'touch "$0" && exec sleep 119', "{{ marker }}"]
`,
  );
  // A play written for a group this inventory does not have: ansible-playbook exits 0 having run nothing.
  writeFileSync(
    join(dir, 'group-play.yaml'),
    `id: group-play
title: Touch a file on every database host
type: restart
risk: low
targetType: service
targetInput: service
targets: { service: service }
executor: ansible
playbook: group-play.yml
inputs:
  type: object
  properties:
    service: { type: string }
    path: { type: string }
`,
  );
  writeFileSync(
    join(dir, 'group-play.yml'),
    `- hosts: databases
  gather_facts: false
  tasks:
    - ansible.builtin.file: { path: "{{ path }}", state: touch }
`,
  );
  // Every task guarded by a condition that does not hold: the play matched, yet nothing was done.
  writeFileSync(
    join(dir, 'all-skipped.yaml'),
    `id: all-skipped
title: Touch a file when asked to
type: restart
risk: low
targetType: service
targetInput: service
targets: { service: service }
executor: ansible
playbook: all-skipped.yml
inputs:
  type: object
  properties:
    service: { type: string }
    path: { type: string }
`,
  );
  writeFileSync(
    join(dir, 'all-skipped.yml'),
    `- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.file: { path: "{{ path }}", state: touch }
      when: service == "never"
`,
  );
  catalog = loadCatalog(dir, { inventoryHosts: ['localhost'] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const executor = (timeoutSeconds = 60) => createAnsibleExecutor({ binary: 'ansible-playbook', inventory: join(dir, 'inventory.ini'), timeoutSeconds, inheritedEnv: inheritedEnvironment() });

it('passes inputs as data: shell metacharacters and Jinja templates from an alert or a model end up verbatim, never executed', async () => {
  const path = join(dir, 'note.txt');
  const canary = join(dir, 'pwned');
  // Ansible templates variable values where a task uses them: without !unsafe the lookup would run on the controller.
  const text = `$(touch ${canary}); \`touch ${canary}\` && touch ${canary} | "quoted" 'single' {{ lookup('pipe', 'touch ${canary}') }} {% raw %}\u00e9 \\ \n`;
  const result = await executor().run({ entry: catalog.get('write-note')!, inputs: { service: 'x', path, text }, runId: 'r1' });
  expect(result.outcome, result.output).toBe('succeeded');
  expect(readFileSync(path, 'utf8')).toBe(text);
  expect(existsSync(canary)).toBe(false);
});

it('dry-run uses --check --diff: it reports the change and makes none', async () => {
  const path = join(dir, 'dry.txt');
  const result = await executor().dryRun({ entry: catalog.get('write-note')!, inputs: { service: 'x', path, text: 'hello' }, runId: 'r2' });
  expect(result.outcome, result.output).toBe('succeeded');
  expect(result.output).toMatch(/\+hello/);
  expect(existsSync(path)).toBe(false);
});

it('a play that matches no host is a failure, no-hosts-matched, in the dry run and in the run, though ansible-playbook exits 0', async () => {
  const path = join(dir, 'never.txt');
  for (const mode of ['dryRun', 'run'] as const) {
    const result = await executor()[mode]({ entry: catalog.get('group-play')!, inputs: { service: 'x', path }, runId: `nh-${mode}` });
    expect(result.outcome, result.output).toBe('failed');
    expect(result).toMatchObject({ failure: 'no-hosts-matched', exitCode: 0 });
    expect(result.output).toMatch(/skipping: no hosts matched/);
    expect(result.output).toMatch(/\[no-hosts-matched: no host of the inventory matched the play; nothing ran\]/);
  }
  expect(existsSync(path)).toBe(false);
});

it('a run whose every task was skipped did nothing, and says so', async () => {
  const path = join(dir, 'skipped.txt');
  const result = await executor().run({ entry: catalog.get('all-skipped')!, inputs: { service: 'x', path }, runId: 'sk' });
  expect(result).toMatchObject({ outcome: 'failed', failure: 'no-hosts-matched' });
  expect(result.output).toMatch(/every task was skipped on localhost/);
  expect(existsSync(path)).toBe(false);
});

it('a cancelled run kills the playbook and what it started, and answers cancelled', async () => {
  const controller = new AbortController();
  const marker = join(dir, 'cancel-marker');
  const running = executor().run({ entry: catalog.get('escape-group')!, inputs: { service: 'x', marker }, runId: 'cancel', signal: controller.signal });
  await expect.poll(() => existsSync(marker), { timeout: 30_000 }).toBe(true);
  const started = Date.now();
  controller.abort();
  const result = await running;
  expect(result.outcome).toBe('cancelled');
  expect(result.output).toMatch(/\[cancelled: the playbook and everything it started were killed\]/);
  expect(Date.now() - started).toBeLessThan(10_000);
  await expect.poll(() => readdirProcs().filter((cmd) => cmd.includes('sleep\u0000119')), { timeout: 10_000 }).toEqual([]);
});

it('a playbook that overruns its timeout is killed with everything it started', async () => {
  const started = Date.now();
  const result = await executor(3).run({ entry: catalog.get('write-note')!, inputs: { service: 'x', path: join(dir, 't.txt'), text: 't', seconds: 120 }, runId: 'r3' });
  expect(result.outcome).toBe('timed_out');
  expect(result.output).toMatch(/killed after 3s timeout/);
  expect(Date.now() - started).toBeLessThan(30_000);
  // SIGTERM first; anything in the group that outlives it gets SIGKILL after the grace period.
  const deadline = Date.now() + 10_000;
  let sleepers = readdirProcs().filter((cmd) => cmd.includes('sleep\u0000120'));
  while (sleepers.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    sleepers = readdirProcs().filter((cmd) => cmd.includes('sleep\u0000120'));
  }
  expect(sleepers).toEqual([]);
});

it('a timed-out playbook also takes down what it started in another process group', async () => {
  const marker = join(dir, 'escaped');
  const result = await executor(8).run({ entry: catalog.get('escape-group')!, inputs: { service: 'x', marker }, runId: 'r5' });
  expect(result.outcome).toBe('timed_out');
  // The process really started, in a session of its own, before the timeout.
  expect(existsSync(marker)).toBe(true);
  const deadline = Date.now() + 10_000;
  let sleepers = readdirProcs().filter((cmd) => cmd.includes('sleep\u0000119'));
  while (sleepers.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    sleepers = readdirProcs().filter((cmd) => cmd.includes('sleep\u0000119'));
  }
  expect(sleepers).toEqual([]);
});

it('a run killed mid-task leaves nothing in the temporary directory, and what a killed service left is cleared at the next start', async () => {
  const workDir = join(dir, 'runs');
  const systemTmp = join(dir, 'system-tmp');
  mkdirSync(join(workDir, 'responder-run-left-by-a-crash'), { recursive: true });
  mkdirSync(systemTmp);
  // The system tmpdir as ansible-playbook inherits it: a killed command module would leave its payload there.
  const killedMidTask = createAnsibleExecutor({ binary: 'ansible-playbook', inventory: join(dir, 'inventory.ini'), timeoutSeconds: 3, inheritedEnv: { ...inheritedEnvironment(), TMPDIR: systemTmp }, workDir });
  expect(readdirSync(workDir)).toEqual([]);
  const result = await killedMidTask.run({ entry: catalog.get('write-note')!, inputs: { service: 'x', path: join(dir, 'k.txt'), text: 'k', seconds: 120 }, runId: 'r6' });
  expect(result.outcome).toBe('timed_out');
  expect(readdirSync(workDir)).toEqual([]);
  expect(readdirSync(systemTmp)).toEqual([]);
});

it('a missing ansible-playbook binary is a failed result that says so', async () => {
  const result = await createAnsibleExecutor({ binary: '/nonexistent/ansible-playbook', inventory: 'localhost,', timeoutSeconds: 5, inheritedEnv: inheritedEnvironment() }).run({
    entry: catalog.get('write-note')!,
    inputs: {},
    runId: 'r4',
  });
  expect(result).toMatchObject({ outcome: 'failed', failure: 'not-started' });
  expect(result.output).toMatch(/could not start \/nonexistent\/ansible-playbook: .*ENOENT/);
});

/** Command lines of live processes, each with its pid, parent and process group so a failure says whose it is. */
function readdirProcs(): string[] {
  const commands: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised name: state ppid pgrp ...
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      commands.push(`${readFileSync(`/proc/${entry}/cmdline`, 'utf8')} [pid ${entry} state ${state} ppid ${ppid} pgrp ${pgrp}]`);
    } catch {
      // Exited while we looked.
    }
  }
  return commands;
}
