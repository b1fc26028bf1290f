import { z } from 'zod';
import { AlertStatusSchema } from '../../domain/alert.js';

// Go writes a nil map as JSON null; for these maps that means "none", not "malformed".
const StringMapSchema = z
  .record(z.string())
  .nullish()
  .transform((map) => map ?? {});

// zod's own test for z.string().datetime({ offset: true }), built once: datetime() builds this RegExp again
// on every value it checks. Same pattern, same message ("Invalid datetime"), so the same answers.
export const RFC3339 = z.datetimeRegex({ offset: true, local: false, precision: null });

/** Go's time.Time as JSON: RFC 3339, with nanoseconds and any zone offset. */
export const GoTimeSchema = z.string().regex(RFC3339, { message: 'Invalid datetime' });

// Go's zero time.Time is what Alertmanager and Grafana write for an alert that has not ended.
export const GO_ZERO_TIME = /^0001-01-01T00:00:00(?:\.0+)?(?:Z|[+-]00:00)$/;

export const EndsAtSchema = GoTimeSchema.or(z.literal(''))
  .nullish()
  .transform((endsAt) => (endsAt && !GO_ZERO_TIME.test(endsAt) ? endsAt : null));

const OptionalTextSchema = z
  .string()
  .nullish()
  .transform((text) => text || null);

/** One alert of an Alertmanager notification (Alertmanager's template.Alert). */
export const AlertmanagerAlertSchema = z
  .object({
    status: AlertStatusSchema,
    labels: z.record(z.string()),
    annotations: StringMapSchema,
    startsAt: GoTimeSchema,
    endsAt: EndsAtSchema,
    generatorURL: OptionalTextSchema,
    fingerprint: OptionalTextSchema,
  })
  .passthrough();
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;

/**
 * The Alertmanager webhook body, `version: "4"` (every Alertmanager since 0.9).
 * Unknown fields pass through so a newer Alertmanager that adds one is still accepted.
 */
export const AlertmanagerWebhookSchema = z
  .object({
    version: z.literal('4'),
    receiver: z.string(),
    status: AlertStatusSchema,
    groupKey: z.string(),
    alerts: z.array(AlertmanagerAlertSchema),
    groupLabels: StringMapSchema,
    commonLabels: StringMapSchema,
    commonAnnotations: StringMapSchema,
    externalURL: z.string().optional(),
    truncatedAlerts: z.number().int().nonnegative().default(0),
  })
  .passthrough();
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;
