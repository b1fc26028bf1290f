import type { Logger } from 'pino';
import type { Investigator } from '../agent/create-investigator.js';
import type { Route } from '../config/config.schema.js';
import type { Executor } from '../execution/executor.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { Catalog } from '../remediation/catalog.js';
import type { Incident, IncidentStore } from '../store/incident-store.js';
import type { PrometheusClient } from '../verification/prometheus-client.js';

export interface WorkflowDeps {
  store: IncidentStore;
  catalog: Catalog;
  policyGate: PolicyGate;
  executor: Executor;
  prometheus: PrometheusClient | null;
  /** The LLM agent; null keeps the no-LLM path (evidence plus runbook mapping). */
  investigator: Investigator | null;
  routes: readonly Route[];
  settings: {
    approvalTimeoutSeconds: number;
    policyRetrySeconds: number;
    verificationTimeoutSeconds: number;
    verificationIntervalSeconds: number;
  };
  escalate(incident: Incident): Promise<Record<string, unknown>>;
  /** Measures a stage for /metrics. */
  timed<T>(stage: string, work: () => Promise<T>): Promise<T>;
  log: Logger;
}

let current: WorkflowDeps | null = null;

/**
 * DBOS recovers workflows by calling the registered function with its original arguments only,
 * so collaborators cannot travel as arguments; main.ts installs them once before launch.
 */
export function setWorkflowDeps(deps: WorkflowDeps): void {
  current = deps;
}

export function workflowDeps(): WorkflowDeps {
  if (!current) throw new Error('workflow dependencies were not installed before the durable runtime started');
  return current;
}
