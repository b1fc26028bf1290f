import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nothingDone } from './ansible-recap.js';
import { unsafeExtraVars } from './unsafe-extra-vars.js';
import type { ExecutionPlan, ExecutionResult, Executor } from './executor.js';
import { collectProcessTree, signalAll } from './process-tree.js';

export interface AnsibleExecutorOptions {
  binary: string;
  inventory: string;
  timeoutSeconds: number;
  /** Cap on stored output; the tail is what explains a failure. */
  maxOutputBytes?: number;
  /** The environment ansible-playbook inherits (src/config's inheritedEnvironment()); `env` is laid over it. */
  inheritedEnv: Record<string, string>;
  env?: Record<string, string>;
  /**
   * Where each run gets its directory (extra-vars, Ansible's temporary files). Owned by this executor:
   * what a killed process left there is removed at creation. Default: a responder-run-* under the system tmpdir.
   */
  workDir?: string;
}

const GRACE_MS = 5000;

function keepTail(chunks: Buffer[], limit: number): string {
  const all = Buffer.concat(chunks);
  if (all.length <= limit) return all.toString('utf8');
  return `[… ${all.length - limit} bytes cut …]\n` + all.subarray(all.length - limit).toString('utf8');
}

export function createAnsibleExecutor(options: AnsibleExecutorOptions): Executor {
  const maxOutput = options.maxOutputBytes ?? 64 * 1024;
  if (options.workDir) {
    rmSync(options.workDir, { recursive: true, force: true });
    mkdirSync(options.workDir, { recursive: true });
  }

  async function invoke(plan: ExecutionPlan, check: boolean): Promise<ExecutionResult> {
    const started = Date.now();
    const playbook = plan.entry.playbookPath;
    if (!playbook) return { outcome: 'failed', failure: 'not-started', exitCode: null, output: `remediation ${plan.entry.id} has no playbook`, durationMs: 0 };
    // Inputs travel as an extra-vars file: model or alert text never becomes part of a command line, and
    // every string in it is tagged !unsafe so that Ansible never evaluates a template it carries.
    const directory = await mkdtemp(join(options.workDir ?? tmpdir(), 'responder-run-'));
    const varsFile = join(directory, 'extra-vars.yml');
    await writeFile(varsFile, unsafeExtraVars(plan.inputs), { mode: 0o600 });
    const args = ['-i', options.inventory, playbook, '--extra-vars', `@${varsFile}`];
    if (check) args.push('--check', '--diff');
    const output: Buffer[] = [];
    try {
      return await new Promise<ExecutionResult>((resolve) => {
        const child = spawn(options.binary, args, {
          // Own process group, so a timeout kills the playbook and everything it started.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...options.inheritedEnv,
            ANSIBLE_NOCOLOR: '1',
            ANSIBLE_FORCE_COLOR: '0',
            ANSIBLE_RETRY_FILES_ENABLED: '0',
            // The recap is read to tell "ran" from "matched no host"; another stdout callback would hide it.
            ANSIBLE_STDOUT_CALLBACK: 'default',
            // Ansible's own temporary files (the controller's, and a local module's unpacked payload, which a
            // killed task never removes) go under the run's directory, removed below whatever happened.
            TMPDIR: directory,
            ANSIBLE_LOCAL_TEMP: join(directory, 'ansible-local'),
            ...options.env,
          },
        });
        let timedOut = false;
        let cancelled = false;
        // The playbook's group and every process it started, even one that left the group.
        const tree = new Set<number>();
        const killAll = (signal: NodeJS.Signals) => {
          if (!child.pid) return;
          collectProcessTree(child.pid, tree);
          signalAll([-child.pid, ...tree], signal);
        };
        const timer = setTimeout(() => {
          timedOut = true;
          killAll('SIGTERM');
          setTimeout(() => killAll('SIGKILL'), GRACE_MS).unref();
        }, options.timeoutSeconds * 1000);
        const cancel = () => {
          cancelled = true;
          killAll('SIGTERM');
          setTimeout(() => killAll('SIGKILL'), GRACE_MS).unref();
        };
        if (plan.signal?.aborted) cancel();
        else plan.signal?.addEventListener('abort', cancel, { once: true });
        child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
        child.on('error', (error) => {
          clearTimeout(timer);
          plan.signal?.removeEventListener('abort', cancel);
          resolve({ outcome: 'failed', failure: 'not-started', exitCode: null, output: `could not start ${options.binary}: ${error.message}`, durationMs: Date.now() - started });
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          plan.signal?.removeEventListener('abort', cancel);
          // The playbook is gone; nothing it started may outlive it.
          if (timedOut || cancelled) killAll('SIGKILL');
          const text = keepTail(output, maxOutput);
          const durationMs = Date.now() - started;
          if (cancelled) resolve({ outcome: 'cancelled', exitCode: null, output: `${text}\n[cancelled: the playbook and everything it started were killed]`, durationMs });
          else if (timedOut) resolve({ outcome: 'timed_out', exitCode: null, output: `${text}\n[killed after ${options.timeoutSeconds}s timeout]`, durationMs });
          else if (code !== 0) resolve({ outcome: 'failed', failure: 'exit-status', exitCode: code, output: text, durationMs });
          else {
            // Exit 0 also means "no host matched": success only when the playbook acted on something.
            const nothing = nothingDone(Buffer.concat(output).toString('utf8'), check);
            if (nothing) resolve({ outcome: 'failed', failure: 'no-hosts-matched', exitCode: 0, output: `${text}\n[no-hosts-matched: ${nothing}]`, durationMs });
            else resolve({ outcome: 'succeeded', exitCode: 0, output: text, durationMs });
          }
        });
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  return {
    name: 'ansible',
    dryRun: (plan) => invoke(plan, true),
    run: (plan) => invoke(plan, false),
  };
}
