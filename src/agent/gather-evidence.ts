import type { EvidenceItem } from '../domain/proposal.js';
import type { Incident } from '../domain/incident-record.js';
import type { PrometheusClient } from '../verification/prometheus-client.js';

const MAX_SERIES_SHOWN = 20;

/** The no-LLM evidence: what the alert says about itself, plus the rule expression evaluated now. */
export async function gatherEvidence(incident: Incident, prometheus: PrometheusClient | null): Promise<EvidenceItem[]> {
  const evidence: EvidenceItem[] = [
    {
      kind: 'alert',
      summary: `${incident.alertName} (${incident.severity}) on ${incident.instance ?? 'unknown instance'}`,
      data: { labels: incident.labels, annotations: incident.annotations },
    },
  ];
  if (!incident.expression) {
    evidence.push({ kind: 'note', summary: 'the alert carries no rule expression to re-evaluate' });
    return evidence;
  }
  if (!prometheus) {
    evidence.push({ kind: 'note', summary: 'no Prometheus configured; rule expression not re-evaluated', data: { expression: incident.expression } });
    return evidence;
  }
  try {
    const series = await prometheus.query(incident.expression);
    evidence.push({
      kind: 'prometheus.instant',
      summary:
        series.length === 0
          ? `rule expression is no longer true: ${incident.expression}`
          : `rule expression holds for ${series.length} series: ${incident.expression}`,
      data: {
        expression: incident.expression,
        series: series.slice(0, MAX_SERIES_SHOWN).map((s) => ({ labels: s.metric, value: s.value[1] })),
        seriesOmitted: Math.max(0, series.length - MAX_SERIES_SHOWN),
      },
    });
  } catch (error) {
    evidence.push({ kind: 'error', summary: `could not evaluate the rule expression: ${(error as Error).message}` });
  }
  return evidence;
}
