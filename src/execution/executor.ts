import type { RunFailure } from '../domain/incident.js';
import type { JsonObject } from '../domain/json-value.js';
import type { CatalogEntry } from '../remediation/catalog.js';

export interface ExecutionPlan {
  entry: CatalogEntry;
  inputs: JsonObject;
  /** Used to name temp files, logs and the engine's correlation id; never interpolated into a command. */
  runId: string;
  /** Aborted when an admin cancels the run: the executor stops what it started and answers `cancelled`. */
  signal?: AbortSignal;
}

interface Common {
  output: string;
  durationMs: number;
}

export type ExecutionResult =
  | (Common & { outcome: 'succeeded'; exitCode: number | null; outputs?: JsonObject })
  | (Common & { outcome: 'failed'; failure: RunFailure; exitCode: number | null; outputs?: JsonObject })
  | (Common & { outcome: 'timed_out'; exitCode: null })
  | (Common & { outcome: 'cancelled'; exitCode: null })
  /** A dry run the engine cannot do; `output` says so. Policy reads it as skipped, not as passed. */
  | (Common & { outcome: 'skipped'; exitCode: null });

/** Runs a catalog action. Expected failures are results, not exceptions. */
export interface Executor {
  readonly name: string;
  dryRun(plan: ExecutionPlan): Promise<ExecutionResult>;
  run(plan: ExecutionPlan): Promise<ExecutionResult>;
}

/** The failure of a result, or null when it did not fail. */
export function failureOf(result: ExecutionResult): RunFailure | null {
  return result.outcome === 'failed' ? result.failure : null;
}
