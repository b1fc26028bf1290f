import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../domain/json-value.js';
import type { CatalogEntry } from '../remediation/catalog.js';
import type { Executor } from './executor.js';

/** The contract's actions; each takes the inputs {service, note}. */
export type ContractAction = 'succeed' | 'fail' | 'nothing' | 'hang';

export interface ExecutorUnderTest {
  executor: Executor;
  /** Built with a timeout of at most `CONTRACT_TIMEOUT_SECONDS`: the hang action must time out within the suite. */
  entries: Record<ContractAction, CatalogEntry>;
  /** The inputs the engine received for the last run of `succeed`, as it saw them; null when nothing arrived. */
  received(): Promise<JsonObject | null>;
  /** Whether the `succeed` action's side effect exists (it must not after a dry run). */
  changed(): Promise<boolean>;
  /** Whether the engine is still working on a `hang` run (process alive, execution running, request open). */
  stillWorking(): Promise<boolean>;
  /** The same executor pointed at an engine that is not there. */
  unreachable: Executor;
  /** Clears what the previous test left (the side effect, the received inputs). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const CONTRACT_TIMEOUT_SECONDS = 4;

/** Inputs an alert or a model could carry: shell, template, URL and path metacharacters, all of which must arrive as data. */
export const HOSTILE_INPUTS: JsonObject = {
  service: 'nginx; rm -rf / && touch /tmp/responder-contract-pwned',
  note: `$(id) \`id\` {{ lookup('pipe', 'id') }} ../../etc/passwd ?x=1#frag %2e%2e/ "quoted" 'single' \\ é 🚀`,
};

const plan = (entry: CatalogEntry, runId: string, signal?: AbortSignal) => ({ entry, inputs: HOSTILE_INPUTS, runId, signal });

/**
 * What every Executor must do, whatever engine it drives (ansible-playbook, a Kestra flow, an HTTP endpoint):
 * inputs arrive as data, verbatim; success is success only when the engine did something; a dry run changes
 * nothing or says it was skipped; a cancelled or overrunning run stops the engine's work; an absent engine
 * is a failed result, never an exception.
 */
export function describeExecutorContract(name: string, create: () => Promise<ExecutorUnderTest>): void {
  describe(`Executor contract: ${name}`, () => {
    let t: ExecutorUnderTest;
    beforeAll(async () => {
      t = await create();
    }, 60_000);
    afterAll(async () => t?.close());

    it('runs an action with hostile inputs delivered verbatim, and reports success', async () => {
      await t.reset();
      const result = await t.executor.run(plan(t.entries.succeed, 'contract-succeed'));
      expect(result.outcome, result.output).toBe('succeeded');
      expect(await t.received()).toEqual(HOSTILE_INPUTS);
      expect(await t.changed()).toBe(true);
    });

    it('a dry run changes nothing: it passes, or says plainly that it was skipped', async () => {
      await t.reset();
      const result = await t.executor.dryRun(plan(t.entries.succeed, 'contract-dry-run'));
      expect(['succeeded', 'skipped'], result.output).toContain(result.outcome);
      if (result.outcome === 'skipped') expect(result.output).toMatch(/dry run|dry-run/);
      expect(await t.changed()).toBe(false);
    });

    it('an action the engine reports as failed is failed (exit-status), with its output kept', async () => {
      const result = await t.executor.run(plan(t.entries.fail, 'contract-fail'));
      expect(result.outcome).toBe('failed');
      expect(result).toMatchObject({ failure: 'exit-status' });
      expect(result.output.length).toBeGreaterThan(0);
    });

    it('an action that acted on nothing is failed (no-hosts-matched), never succeeded', async () => {
      const result = await t.executor.run(plan(t.entries.nothing, 'contract-nothing'));
      expect(result.outcome, result.output).toBe('failed');
      expect(result).toMatchObject({ failure: 'no-hosts-matched' });
    });

    it('a cancelled run stops the engine and answers cancelled', async () => {
      const controller = new AbortController();
      const running = t.executor.run(plan(t.entries.hang, 'contract-cancel', controller.signal));
      await expect.poll(() => t.stillWorking(), { timeout: 20_000 }).toBe(true);
      controller.abort();
      const result = await running;
      expect(result.outcome, result.output).toBe('cancelled');
      await expect.poll(() => t.stillWorking(), { timeout: 15_000 }).toBe(false);
    }, 45_000);

    it('a run that overruns its timeout is stopped and answers timed_out', async () => {
      const started = Date.now();
      const result = await t.executor.run(plan(t.entries.hang, 'contract-timeout'));
      expect(result.outcome, result.output).toBe('timed_out');
      expect(Date.now() - started).toBeLessThan((CONTRACT_TIMEOUT_SECONDS + 10) * 1000);
      await expect.poll(() => t.stillWorking(), { timeout: 15_000 }).toBe(false);
    }, 45_000);

    it('an engine that is not there is a failed result that says so, not an exception', async () => {
      const result = await t.unreachable.run(plan(t.entries.succeed, 'contract-unreachable'));
      expect(result.outcome).toBe('failed');
      expect(result).toMatchObject({ failure: expect.stringMatching(/^(not-started|unreachable)$/) });
      expect(result.output.length).toBeGreaterThan(0);
    });
  });
}
