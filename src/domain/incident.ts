import { z } from 'zod';

export const IncidentStateSchema = z.enum([
  'received',
  'investigating',
  'proposed',
  'denied',
  'awaiting_approval',
  'approved',
  'executing',
  'verifying',
  'resolved',
  'failed',
  'rejected',
  'expired',
  'diagnosed',
  'suppressed',
]);
export type IncidentState = z.infer<typeof IncidentStateSchema>;

export const ModeSchema = z.enum(['diagnose-only', 'approve', 'auto']);
export type Mode = z.infer<typeof ModeSchema>;

/** States after which the workflow does nothing more; a new notification for the fingerprint opens a new incident. */
export const TERMINAL_STATES: readonly IncidentState[] = [
  'denied',
  'resolved',
  'failed',
  'rejected',
  'expired',
  'diagnosed',
  'suppressed',
];

export function isTerminal(state: IncidentState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** States in which a resolved alert may still close the incident: nothing has been executed yet. */
export const CLOSABLE_ON_RESOLVE: readonly IncidentState[] = [
  'received',
  'investigating',
  'proposed',
  'awaiting_approval',
  'approved',
];

export const RunStateSchema = z.enum(['claimed', 'running', 'succeeded', 'failed', 'timed_out', 'unknown']);
export type RunState = z.infer<typeof RunStateSchema>;
