import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ScenarioError } from '../domain/errors.js';

const LabelsSchema = z.record(z.string());

/** An hour of history for one planted series, ending at the live value the exporter then serves. */
const HistorySchema = z
  .object({
    /**
     * flat: stays at `from`; ramp: `from` to `to` evenly; step: `from` until `atFraction` of the hour, then
     * `to`; wave: `from` and `to` in turn, `flips` times in the hour, ending at `to` (a flapping value).
     */
    shape: z.enum(['flat', 'ramp', 'step', 'wave']),
    from: z.number(),
    to: z.number().optional(),
    atFraction: z.number().min(0).max(1).default(0.8),
    flips: z.number().int().min(1).max(200).default(10),
  })
  .strict();

const SeriesSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
    labels: LabelsSchema.default({}),
    history: HistorySchema,
  })
  .strict();

const LogLineSchema = z
  .object({
    line: z.string(),
    minutesAgo: z.number().min(0).max(59),
    /** The same line this many times, one second apart. */
    repeat: z.number().int().min(1).max(5000).default(1),
  })
  .strict();

const TurnSchema = z.union([
  z.object({ toolCalls: z.array(z.object({ name: z.string(), input: z.record(z.unknown()) }).strict()).min(1) }).strict(),
  z.object({ text: z.string() }).strict(),
]);
export type ScenarioTurn = z.infer<typeof TurnSchema>;

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/),
    description: z.string(),
    alert: z
      .object({
        name: z.string(),
        severity: z.string().default('warning'),
        labels: LabelsSchema,
        annotations: LabelsSchema.default({}),
        expression: z.string(),
      })
      .strict(),
    series: z.array(SeriesSchema).min(1),
    /** Prometheus alerting rules planted with the series, so related alerts really fire. */
    rules: z.array(z.object({ alert: z.string(), expr: z.string(), labels: LabelsSchema.default({}), annotations: LabelsSchema.default({}) }).strict()).default([]),
    logs: z.array(z.object({ labels: LabelsSchema, lines: z.array(LogLineSchema) }).strict()).default([]),
    allowedActions: z.array(z.string()).min(1),
    /** Facts that must reach the model: each string must appear in what it was shown. */
    keyEvidence: z.array(z.string()).min(1),
    expected: z
      .object({
        /** A catalog action id, or "none": the right answer is to propose nothing and say why. */
        action: z.string(),
        inputs: z.record(z.unknown()).default({}),
        /** Distinct approvers policy must ask for the proposed action. */
        approvals: z.number().int().min(0).optional(),
        /** Words the diagnosis must contain (case-insensitive), e.g. that no catalog action fits. */
        diagnosisMentions: z.array(z.string()).default([]),
      })
      .strict(),
    /** An action planted in the data (a log line asking for it) that a right answer never proposes. */
    injection: z.object({ action: z.string() }).strict().optional(),
    /** The scripted model's turns for offline runs; a real model (responder eval) ignores them. */
    script: z.array(TurnSchema).min(1),
  })
  .strict();
export type Scenario = z.infer<typeof ScenarioSchema>;

export function loadScenarios(directory: string): Scenario[] {
  const files = readdirSync(directory).filter((f) => f.endsWith('.yaml')).sort();
  if (files.length === 0) throw new ScenarioError('scenarios_missing', `no scenario *.yaml files in ${directory}`);
  return files.map((file) => {
    const parsed = ScenarioSchema.safeParse(parse(readFileSync(join(directory, file), 'utf8')));
    if (!parsed.success) {
      throw new ScenarioError('scenario_invalid', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  });
}

const HISTORY_STEP_SECONDS = 15;
const HISTORY_SECONDS = 3600;
/** History ends this long before start so it never overlaps what Prometheus then scrapes live. */
const HISTORY_GAP_SECONDS = 20;

function valueAt(history: z.infer<typeof HistorySchema>, fraction: number): number {
  const to = history.to ?? history.from;
  if (history.shape === 'flat') return history.from;
  if (history.shape === 'ramp') return history.from + (to - history.from) * fraction;
  if (history.shape === 'wave') return (history.flips - Math.floor(fraction * history.flips)) % 2 === 0 ? to : history.from;
  return fraction < history.atFraction ? history.from : to;
}

export function liveValue(series: Scenario['series'][number]): number {
  return valueAt(series.history, 1);
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** OpenMetrics for promtool: every series' hour, grouped by metric family as the format requires. */
export function backfillText(scenarios: readonly Scenario[], nowSeconds: number): string {
  const families = new Map<string, string[]>();
  const end = nowSeconds - HISTORY_GAP_SECONDS;
  const points = HISTORY_SECONDS / HISTORY_STEP_SECONDS;
  for (const series of scenarios.flatMap((s) => s.series)) {
    const lines = families.get(series.name) ?? [];
    for (let i = 0; i <= points; i += 1) {
      const at = end - HISTORY_SECONDS + i * HISTORY_STEP_SECONDS;
      lines.push(`${series.name}${labelText(series.labels)} ${valueAt(series.history, i / points)} ${at}`);
    }
    families.set(series.name, lines);
  }
  const out: string[] = [];
  for (const [name, lines] of families) out.push(`# TYPE ${name} gauge`, ...lines);
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
