import type { JsonObject } from '../domain/json-value.js';
import type { CatalogEntry } from '../remediation/catalog.js';

export interface ExecutionPlan {
  entry: CatalogEntry;
  inputs: JsonObject;
  /** Used to name temp files and logs; never interpolated into a command. */
  runId: string;
}

export type ExecutionResult =
  | { outcome: 'succeeded'; exitCode: 0; output: string; durationMs: number }
  | { outcome: 'failed'; exitCode: number | null; output: string; durationMs: number }
  | { outcome: 'timed_out'; exitCode: null; output: string; durationMs: number };

/** Runs a catalog action. Expected failures are results, not exceptions. */
export interface Executor {
  readonly name: string;
  dryRun(plan: ExecutionPlan): Promise<ExecutionResult>;
  run(plan: ExecutionPlan): Promise<ExecutionResult>;
}
