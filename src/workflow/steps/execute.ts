import type { RunFailure, RunState } from '../../domain/incident.js';
import type { JsonObject } from '../../domain/json-value.js';
import { failureOf } from '../../execution/executor.js';
import { targetOf } from '../../policy/build-policy-input.js';
import { targetsOf, type CatalogEntry } from '../../remediation/catalog.js';
import type { SlotOutcome } from '../../store/runs.js';
import { durableSleep, step } from '../durable-runtime.js';
import { transition } from './transition.js';
import { DB_RETRIES, RESPONDER, type WorkflowDeps } from '../workflow-deps.js';

export interface ExecutionOutcome {
  outcome: Exclude<RunState, 'claimed' | 'running'>;
  failure: RunFailure | null;
  output: string;
  /** The admin who cancelled it. */
  cancelledBy?: string | null;
}

/** The approved action of an incident, or the rollback of it: each runs at most once. */
export type ApprovedRunKind = 'execute' | 'rollback';

export const executionRunId = (incidentId: string, kind: ApprovedRunKind = 'execute') => `${incidentId}:${kind}`;

/** The entry's target inputs as one key: runs with the same key never overlap. */
export function targetKeyOf(entry: CatalogEntry, inputs: Record<string, unknown>): string {
  return targetsOf(entry, inputs)
    .map((t) => `${t.input}=${t.value}`)
    .sort()
    .join(',');
}

/** The first execution's steps keep their names; a rollback's are prefixed, so the record reads which is which. */
const stepName = (kind: ApprovedRunKind, name: string) => (kind === 'execute' ? name : `rollback-${name}`);

const CANCEL_POLL_MS = 1000;

/**
 * Claims the run, waits until its target is free and the global limit allows it (the incident says why it
 * waits), moves the incident to executing and runs the action. `closed`: the incident left `approved` while
 * it waited (its alert resolved); nothing ran.
 */
export async function runApprovedAction(
  d: WorkflowDeps,
  incidentId: string,
  entry: CatalogEntry,
  inputs: JsonObject,
  kind: ApprovedRunKind,
): Promise<{ kind: 'closed' } | { kind: 'finished'; run: ExecutionOutcome; runId: string }> {
  const runId = executionRunId(incidentId, kind);
  const claim = { id: runId, incidentId, kind, actionId: entry.id, target: targetOf(entry, inputs), targetKey: targetKeyOf(entry, inputs), inputs };
  await step(stepName(kind, 'claim-run'), () => d.runs.claim(claim), { retries: DB_RETRIES });
  const slot = await waitForSlot(d, incidentId, runId, kind);
  if (slot.kind === 'closed') {
    await step(stepName(kind, 'release-run'), () => d.runs.finish(runId, incidentId, { state: 'cancelled', exitCode: null, output: 'the incident was closed while this run waited; nothing ran' }), { retries: DB_RETRIES });
    return { kind: 'closed' };
  }
  if (slot.kind === 'cancelled') {
    const output = `cancelled by ${slot.by} before it started${slot.reason ? `: ${slot.reason}` : ''}; nothing ran`;
    await step(stepName(kind, 'cancel-waiting-run'), () => d.runs.finish(runId, incidentId, { state: 'cancelled', exitCode: null, output, cancelledBy: slot.by }), { retries: DB_RETRIES });
    return { kind: 'finished', runId, run: { outcome: 'cancelled', failure: null, output, cancelledBy: slot.by } };
  }
  // `gone` falls through: the run started before a crash, and executeStep records it as unknown.
  if (!(await transition(d, incidentId, stepName(kind, 'start-execution'), { from: ['approved'], to: 'executing', actor: RESPONDER, audit: { runId } }))) return { kind: 'closed' };
  const run = await executeStep(d, incidentId, entry, inputs, runId, kind);
  return { kind: 'finished', runId, run };
}

/** Polls for a slot, durably; the incident's reason says what it waits for whenever that changes. */
async function waitForSlot(d: WorkflowDeps, incidentId: string, runId: string, kind: ApprovedRunKind): Promise<Exclude<SlotOutcome, { kind: 'wait' }> | { kind: 'closed' }> {
  let waitingFor: string | null = null;
  for (let attempt = 1; ; attempt += 1) {
    const slot = await step(stepName(kind, `acquire-slot-${attempt}`), () => d.runs.acquireSlot(runId, d.settings.maxConcurrentRuns), { retries: DB_RETRIES });
    if (slot.kind !== 'wait') return slot;
    if (slot.reason !== waitingFor) {
      waitingFor = slot.reason;
      if (!(await transition(d, incidentId, stepName(kind, `wait-for-slot-${attempt}`), { from: ['approved'], to: 'approved', actor: RESPONDER, reason: slot.reason, audit: { runId } }))) {
        return { kind: 'closed' };
      }
    }
    await durableSleep(d.settings.slotRetrySeconds * 1000);
    const current = await step(stepName(kind, `slot-recheck-${attempt}`), () => d.incidents.get(incidentId), { retries: DB_RETRIES });
    if (!current || current.state !== 'approved') return { kind: 'closed' };
  }
}

/**
 * Runs the action at most once: a run found already started was interrupted, and is never re-run on its own.
 * While it runs, an admin's cancel request (from any replica, through the database) stops the engine.
 */
function executeStep(d: WorkflowDeps, incidentId: string, entry: CatalogEntry, inputs: JsonObject, runId: string, kind: ApprovedRunKind): Promise<ExecutionOutcome> {
  const name = stepName(kind, 'run-remediation');
  return step(name, async () => {
    if (!(await d.runs.start(runId))) {
      const output = 'the service stopped while this remediation was running; its outcome is unknown and it will not be re-run without a human';
      await d.runs.finish(runId, incidentId, { state: 'unknown', exitCode: null, output });
      d.recordRun(kind, 'unknown', null);
      return { outcome: 'unknown' as const, failure: null, output };
    }
    const executor = d.executors.forEntry(entry);
    const controller = new AbortController();
    let cancelledBy: string | null = null;
    const watch = async () => {
      const request = await d.runs.cancelRequest(runId).catch(() => null);
      if (request && !controller.signal.aborted) {
        cancelledBy = request.by;
        controller.abort();
      }
    };
    await watch();
    if (controller.signal.aborted) {
      const output = `cancelled by ${cancelledBy} before it started; nothing ran`;
      await d.runs.finish(runId, incidentId, { state: 'cancelled', exitCode: null, output, cancelledBy });
      return { outcome: 'cancelled' as const, failure: null, output, cancelledBy };
    }
    const watcher = setInterval(() => void watch(), CANCEL_POLL_MS);
    let result;
    try {
      result = await d.timed('execute', () => executor.run({ entry, inputs, runId, signal: controller.signal }));
    } finally {
      clearInterval(watcher);
    }
    const failure = failureOf(result);
    await d.runs.finish(runId, incidentId, {
      state: result.outcome,
      failure,
      exitCode: result.exitCode,
      output: result.output,
      outputs: 'outputs' in result ? result.outputs : undefined,
      cancelledBy: result.outcome === 'cancelled' ? cancelledBy : null,
    });
    d.recordRun(kind, result.outcome, failure);
    return { outcome: result.outcome, failure, output: result.output, cancelledBy: result.outcome === 'cancelled' ? cancelledBy : null };
  });
}

/** The incident's reason for a run that did not succeed. */
export function runFailureReason(run: ExecutionOutcome): string {
  switch (run.outcome) {
    case 'unknown':
      return 'remediation was interrupted; outcome unknown, a human must check the target before anything re-runs';
    case 'timed_out':
      return 'remediation timed out; see the run output';
    case 'cancelled':
      return `remediation cancelled by ${run.cancelledBy ?? 'an admin'}; whatever it had started was stopped, check the target`;
    default:
      return run.failure === 'no-hosts-matched'
        ? 'remediation failed (no-hosts-matched): nothing ran on any host; see the run output'
        : `remediation failed${run.failure ? ` (${run.failure})` : ''}; see the run output`;
  }
}
