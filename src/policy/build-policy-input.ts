import { POLICY_INPUT_VERSION, type PolicyInput } from '../domain/decision.js';
import type { Mode } from '../domain/incident.js';
import type { Proposal } from '../domain/proposal.js';
import { targetsOf, type CatalogEntry } from '../remediation/catalog.js';
import type { Incident } from '../domain/incident-record.js';

export interface DryRunSummary {
  ok: boolean;
  skipped: boolean;
}

export function targetOf(entry: CatalogEntry, inputs: Record<string, unknown>): string {
  return String(inputs[entry.targetInput] ?? '');
}

export function buildPolicyInput(args: {
  incident: Incident;
  mode: Mode;
  proposal: Proposal & { action: NonNullable<Proposal['action']> };
  entry: CatalogEntry;
  dryRun: DryRunSummary;
  targetRemediationsLastHour: number;
  requester: string;
}): PolicyInput {
  const { incident, proposal, entry } = args;
  return {
    version: POLICY_INPUT_VERSION,
    action: {
      id: entry.id,
      type: entry.type,
      target: targetOf(entry, proposal.action.inputs),
      target_type: entry.targetType,
      inputs: proposal.action.inputs,
      targets: targetsOf(entry, proposal.action.inputs),
      risk: entry.risk,
      read_only: entry.readOnly,
      destructive: entry.destructive,
    },
    alert: { name: incident.alertName, severity: incident.severity, instance: incident.instance, labels: incident.labels },
    incident: { id: incident.id, mode: args.mode, confidence: proposal.confidence, dry_run: args.dryRun },
    history: { target_remediations_last_hour: args.targetRemediationsLastHour },
    requester: args.requester,
  };
}
