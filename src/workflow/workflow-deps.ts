import type { Logger } from 'pino';
import type { Investigator } from '../agent/create-investigator.js';
import type { ApprovalAnnouncer } from '../approval/approval-announcer.js';
import type { Route } from '../config/config.schema.js';
import type { Incident } from '../domain/incident-record.js';
import type { ExecutorRegistry } from '../execution/executor-registry.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { Catalog } from '../remediation/catalog.js';
import type { ApprovalStore } from '../store/approvals.js';
import type { IncidentStore } from '../store/incidents.js';
import type { InvestigationStore } from '../store/investigations.js';
import type { RunStore } from '../store/runs.js';
import type { PrometheusClient } from '../verification/prometheus-client.js';
import type { TrustedExpression } from '../verification/trusted-expression.js';

/** Everything the incident workflow works with; main.ts builds it and hands it to registerIncidentWorkflow. */
export interface WorkflowDeps {
  incidents: IncidentStore;
  runs: RunStore;
  investigations: InvestigationStore;
  approvals: ApprovalStore;
  /** Tells the approval channels (web, Matrix) when a request opens and ends. */
  announcer: ApprovalAnnouncer;
  catalog: Catalog;
  policyGate: PolicyGate;
  executors: ExecutorRegistry;
  prometheus: PrometheusClient | null;
  /** The expression evidence and verification may run: the rule's, from Prometheus, not the alert's claim. */
  resolveExpression(incident: Incident): Promise<TrustedExpression>;
  /** The LLM agent; null keeps the no-LLM path (evidence plus runbook mapping). */
  investigator: Investigator | null;
  routes: readonly Route[];
  settings: {
    approvalTimeoutSeconds: number;
    policyRetrySeconds: number;
    verificationTimeoutSeconds: number;
    verificationIntervalSeconds: number;
    /** execution.maxConcurrentRuns: remediations running at once across all targets. */
    maxConcurrentRuns: number;
    /** How often a run waiting for its target or a free slot looks again. */
    slotRetrySeconds: number;
  };
  escalate(incident: Incident): Promise<Record<string, unknown>>;
  /** Measures a stage for /metrics. */
  timed<T>(stage: string, work: () => Promise<T>): Promise<T>;
  /** Counts a finished run for /metrics. */
  recordRun(kind: string, state: string, failure: string | null): void;
  log: Logger;
}

export const RESPONDER = 'responder';
/** Database steps retry: a brief connection loss must not fail an incident. */
export const DB_RETRIES = 5;
