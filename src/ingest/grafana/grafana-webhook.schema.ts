import { z } from 'zod';
import { AlertmanagerAlertSchema, AlertmanagerWebhookSchema } from '../alertmanager/alertmanager-webhook.schema.js';

// Grafana's webhook body is Alertmanager's notification data plus Grafana's own fields, so it
// extends the Alertmanager schema instead of restating it.

const OptionalLinkSchema = z
  .string()
  .nullish()
  .transform((link) => link || null);

/** One alert of a Grafana notification (grafana/alerting's ExtendedAlert). */
export const GrafanaAlertSchema = AlertmanagerAlertSchema.extend({
  silenceURL: OptionalLinkSchema,
  dashboardURL: OptionalLinkSchema,
  panelURL: OptionalLinkSchema,
  imageURL: OptionalLinkSchema,
  /** Each query or expression's value at evaluation, by refId; null when the rule has none (e.g. NoData). */
  values: z
    .record(z.number().nullable())
    .nullish()
    .transform((values) => values ?? null),
  valueString: z.string().optional(),
}).passthrough();
export type GrafanaAlert = z.infer<typeof GrafanaAlertSchema>;

/**
 * The Grafana unified-alerting webhook body, `version: "1"`.
 * Unknown fields pass through so a newer Grafana that adds one is still accepted.
 */
export const GrafanaWebhookSchema = AlertmanagerWebhookSchema.extend({
  version: z.literal('1'),
  alerts: z.array(GrafanaAlertSchema),
  orgId: z.number().int().optional(),
  title: z.string().optional(),
  /** `alerting` while any alert fires, else `ok`. */
  state: z.string().optional(),
  message: z.string().optional(),
  notification_reason: z.string().optional(),
}).passthrough();
export type GrafanaWebhook = z.infer<typeof GrafanaWebhookSchema>;
