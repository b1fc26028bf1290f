import { DBOS } from '@dbos-inc/dbos-sdk';

/**
 * Changing this strands nothing only if the step sequence of respond-to-incident is compatible.
 * DBOS recovers a workflow only in a process of the same application version; pinning it
 * (instead of DBOS's default hash of the code) lets ordinary releases pick up waiting incidents.
 */
export const WORKFLOW_VERSION = 'respond-to-incident/3';

export interface DurableRuntimeOptions {
  databaseUrl: string;
  /** Stable per replica so the recovery of a dead replica's workflows can be attributed. */
  executorId?: string;
  logLevel?: string;
  /** Only for tests that play an older release; a release always runs WORKFLOW_VERSION. */
  workflowVersion?: string;
}

/**
 * The embedded cluster's URL for DBOS, with DBOS's idle-in-transaction limit as a startup parameter. Without
 * it DBOS sets the limit with a query from its pool's `connect` event, which node-postgres 8 queues behind the
 * borrower's first query and reports as a DeprecationWarning on every start (pg 9 will refuse it). Only for the
 * embedded cluster: a PgBouncer in front of an external database refuses unknown startup parameters.
 */
export function withIdleTransactionTimeout(databaseUrl: string, timeoutMs = 60_000): string {
  const url = new URL(databaseUrl);
  if (url.searchParams.has('options')) return databaseUrl;
  url.searchParams.set('options', `-c idle_in_transaction_session_timeout=${timeoutMs}`);
  return url.toString();
}

let stopping = false;
let runningVersion = WORKFLOW_VERSION;

/**
 * True once the runtime is shutting down. DBOS.shutdown does not wait for running workflows: a step that
 * finishes after it cannot record its result and throws. Such a workflow is not failed, only interrupted;
 * it stays pending and the next start recovers it.
 */
export function isDurableRuntimeStopping(): boolean {
  return stopping;
}

export async function startDurableRuntime(options: DurableRuntimeOptions): Promise<void> {
  stopping = false;
  runningVersion = options.workflowVersion ?? WORKFLOW_VERSION;
  DBOS.setConfig({
    name: 'responder',
    systemDatabaseUrl: options.databaseUrl,
    applicationVersion: runningVersion,
    executorID: options.executorId,
    logLevel: options.logLevel ?? 'warn',
  });
  await DBOS.launch();
}

export async function stopDurableRuntime(): Promise<void> {
  stopping = true;
  // Registrations are bound to this start's collaborators; the next start in the same process registers anew.
  await DBOS.shutdown({ deregister: true });
}

/** Runs `work` as a named, checkpointed step: on recovery a finished step returns its recorded result. */
export function step<T>(name: string, work: () => Promise<T>, options: { retries?: number } = {}): Promise<T> {
  return DBOS.runStep(work, {
    name,
    ...(options.retries ? { retriesAllowed: true, maxAttempts: options.retries, intervalSeconds: 1, backoffRate: 2 } : {}),
  });
}

export function durableSleep(ms: number): Promise<void> {
  return DBOS.sleep(ms);
}

export function receive<T>(topic: string, deadlineEpochMs: number): Promise<T | null> {
  return DBOS.recv<T>(topic, { deadlineEpochMS: deadlineEpochMs });
}

export function send<T>(workflowId: string, message: T, topic: string, idempotencyKey?: string): Promise<void> {
  return DBOS.send(workflowId, message, topic, idempotencyKey);
}

/**
 * Workflows of this executor still pending that a release with another workflow version started: DBOS
 * recovers only workflows of its own version, so nothing would ever resume them. Another executor's are
 * left alone: during a rolling upgrade an older replica may still be running its own.
 */
export async function listPendingWorkflowsOfOtherVersions(): Promise<{ workflowId: string; version: string }[]> {
  const pending = await DBOS.listWorkflows({ status: ['PENDING', 'ENQUEUED'], executorId: DBOS.executorID, loadInput: false, loadOutput: false });
  return pending
    .filter((workflow) => workflow.applicationVersion !== undefined && workflow.applicationVersion !== runningVersion)
    .map((workflow) => ({ workflowId: workflow.workflowID, version: workflow.applicationVersion! }));
}

/** Workflows a replica that is gone left running, split into those this release can go on with and the rest. */
export async function listWorkflowsLeftBy(executorId: string): Promise<{ resumable: string[]; otherVersions: { workflowId: string; version: string }[] }> {
  const pending = await DBOS.listWorkflows({ status: ['PENDING'], executorId, loadInput: false, loadOutput: false });
  return {
    resumable: pending.filter((workflow) => workflow.applicationVersion === runningVersion).map((workflow) => workflow.workflowID),
    otherVersions: pending.filter((workflow) => workflow.applicationVersion !== runningVersion).map((workflow) => ({ workflowId: workflow.workflowID, version: workflow.applicationVersion ?? '(none)' })),
  };
}

/**
 * Hands workflows to DBOS's internal queue, from which a live replica of this version takes each once and
 * goes on from its last finished step (the step that was interrupted runs again, as after a crash).
 */
export async function resumeWorkflowsElsewhere(workflowIds: string[]): Promise<void> {
  if (workflowIds.length > 0) await DBOS.resumeWorkflows(workflowIds);
}

export function cancelDurableWorkflow(workflowId: string): Promise<void> {
  return DBOS.cancelWorkflow(workflowId);
}

export function registerWorkflow<Args extends unknown[], Return>(name: string, workflow: (...args: Args) => Promise<Return>) {
  return DBOS.registerWorkflow(workflow, { name });
}

export async function startWorkflow<Args extends unknown[], Return>(
  workflow: (...args: Args) => Promise<Return>,
  workflowId: string,
  ...args: Args
): Promise<void> {
  await DBOS.startWorkflow(workflow, { workflowID: workflowId })(...args);
}

export async function waitForWorkflow(workflowId: string, timeoutSeconds: number): Promise<unknown> {
  return DBOS.getResult(workflowId, { timeoutSeconds });
}
