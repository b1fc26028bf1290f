import type { ScenarioResult } from './run-scenario.js';

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
}

/** One row per scenario run, then the line the issue asks for, e.g. `context recall 6/6, median tokens 2400, compaction 14.2×`. */
export function formatScenarioReport(results: readonly ScenarioResult[]): string {
  const header = ['scenario', 'transport', 'recall', 'tokens shown', 'raw bytes', 'shown bytes', 'compaction', 'action', 'correct', 'outcome'];
  const rows = results.map((r) => [
    r.scenario,
    r.transport,
    `${r.recall.found.length}/${r.recall.found.length + r.recall.missing.length}`,
    String(r.tokensShown),
    String(r.rawBytes),
    String(r.shownBytes),
    `${(r.rawBytes / Math.max(1, r.shownBytes)).toFixed(1)}×`,
    r.chosenAction ?? '(none)',
    r.actionCorrect ? 'yes' : 'no',
    r.investigation.outcome + (r.investigation.reason ? ` (${r.investigation.reason})` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const missing = results.filter((r) => r.recall.missing.length > 0).map((r) => `  ${r.scenario}/${r.transport} missed: ${r.recall.missing.join(' | ')}`);
  const fullRecall = results.filter((r) => r.recall.missing.length === 0).length;
  const raw = results.reduce((sum, r) => sum + r.rawBytes, 0);
  const shown = results.reduce((sum, r) => sum + r.shownBytes, 0);
  return [
    pad(header, widths),
    ...rows.map((row) => pad(row, widths)),
    ...(missing.length > 0 ? ['', 'key evidence the model was not shown:', ...missing] : []),
    '',
    `context recall ${fullRecall}/${results.length}, median tokens ${median(results.map((r) => r.tokensShown))}, compaction ${(raw / Math.max(1, shown)).toFixed(1)}×`,
  ].join('\n');
}

export function actionScore(results: readonly ScenarioResult[]): string {
  return `actions correct ${results.filter((r) => r.actionCorrect).length}/${results.length}`;
}
