import { z } from 'zod';
import { NormalizedAlertSchema, NormalizedNotificationSchema } from './alert.js';

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
  /** The remediation ran and succeeded, but nothing could check that the condition cleared. */
  'unverified',
  'failed',
  'rejected',
  'expired',
  'diagnosed',
  'suppressed',
]);
export type IncidentState = z.infer<typeof IncidentStateSchema>;

export const ModeSchema = z.enum(['diagnose-only', 'approve', 'auto']);
export type Mode = z.infer<typeof ModeSchema>;

/** States after which the workflow does nothing more; the fingerprint's next firing (a new startsAt) opens a new incident. */
export const TERMINAL_STATES: readonly IncidentState[] = [
  'denied',
  'resolved',
  'unverified',
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

/** skipped: the executor has no dry run of its own; cancelled: an admin stopped it; unknown: a crash interrupted it. */
export const RunStateSchema = z.enum(['claimed', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'skipped', 'unknown']);
export type RunState = z.infer<typeof RunStateSchema>;

/**
 * Why a failed run failed. no-hosts-matched: the engine reported success but acted on nothing (no host
 * matched, every task skipped); invalid-response: the engine answered something that is not an outcome.
 */
export const RunFailureSchema = z.enum(['exit-status', 'no-hosts-matched', 'not-started', 'unreachable', 'invalid-response']);
export type RunFailure = z.infer<typeof RunFailureSchema>;

/** Which route an alert matched and so what Responder may do about it; decided in ingest before anything is stored. */
export const RouteChoiceSchema = z.object({ route: z.string(), mode: ModeSchema });
export type RouteChoice = z.infer<typeof RouteChoiceSchema>;

/** A delivery after routing: each alert with the route it matched (null: store and show, do not act). */
export const RoutedNotificationSchema = NormalizedNotificationSchema.extend({
  alerts: z.array(NormalizedAlertSchema.extend({ route: RouteChoiceSchema.nullable() })),
});
export type RoutedNotification = z.infer<typeof RoutedNotificationSchema>;

/** What intake answers for each alert of a delivery. */
export const IntakeResultSchema = z.object({
  id: z.string().uuid(),
  fingerprint: z.string(),
  state: IncidentStateSchema,
  /** True when this delivery opened the incident and a route wants it acted on. */
  startWorkflow: z.boolean(),
});
export type IntakeResult = z.infer<typeof IntakeResultSchema>;
