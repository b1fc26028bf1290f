import { z } from 'zod';

export const AlertSourceSchema = z.enum(['grafana', 'alertmanager']);
export type AlertSource = z.infer<typeof AlertSourceSchema>;

export const AlertStatusSchema = z.enum(['firing', 'resolved']);
export type AlertStatus = z.infer<typeof AlertStatusSchema>;

/** One alert from any source, after parsing at the edge. Everything downstream sees only this. */
export const NormalizedAlertSchema = z.object({
  source: AlertSourceSchema,
  fingerprint: z.string().min(1),
  status: AlertStatusSchema,
  name: z.string(),
  severity: z.string(),
  instance: z.string().nullable(),
  labels: z.record(z.string()),
  annotations: z.record(z.string()),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  generatorURL: z.string().nullable(),
  /** The PromQL condition that fires the alert, when the source tells us (Prometheus generatorURL or an `expr` annotation). */
  expression: z.string().nullable(),
  /** Grafana's evaluated values, e.g. {"A": 97.2}. */
  values: z.record(z.number().nullable()).nullable(),
});
export type NormalizedAlert = z.infer<typeof NormalizedAlertSchema>;

/** One webhook delivery, normalised: the group it came in and its alerts. */
export const NormalizedNotificationSchema = z.object({
  source: AlertSourceSchema,
  receiver: z.string(),
  groupKey: z.string(),
  alerts: z.array(NormalizedAlertSchema),
  /** Alerts the sender dropped because of max_alerts; recorded so an operator can see them missing. */
  truncatedAlerts: z.number().int().nonnegative(),
});
export type NormalizedNotification = z.infer<typeof NormalizedNotificationSchema>;
