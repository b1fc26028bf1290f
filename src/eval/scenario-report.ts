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

/** Counts tokens with a real tokenizer (the bench passes js-tiktoken's cl100k); absent, only the estimate is shown. */
export type TokenCounter = (text: string) => number;

function cl100k(result: ScenarioResult, count: TokenCounter | undefined): { first: number; last: number; total: number } | null {
  const texts = result.requestTexts;
  if (!count || !texts || texts.length === 0) return null;
  const outputs = result.investigation.transcript.flatMap((e) => (e.kind === 'model-call' ? [e.text + e.toolCalls.map((c) => c.name + JSON.stringify(c.input)).join('')] : []));
  const inputs = texts.map(count);
  return { first: inputs[0]!, last: inputs.at(-1)!, total: inputs.reduce((a, b) => a + b, 0) + outputs.reduce((sum, text) => sum + count(text), 0) };
}

/**
 * One row per scenario run, then the summary line:
 * `context recall R/N, pack-only recall P/K, median tokens T, median first request F, median investigation I, compaction C×`
 * (R/N scenarios with all their key evidence shown; P/K key facts in the context pack alone; tokens as
 * the provider reported them — the scripted model's estimate is a quarter of the characters).
 */
export function formatScenarioReport(results: readonly ScenarioResult[], options: { countTokens?: TokenCounter } = {}): string {
  const counted = results.map((r) => cl100k(r, options.countTokens));
  const withCl100k = counted.every((c) => c !== null) && results.length > 0;
  const header = [
    'scenario',
    'transport',
    'recall',
    'pack-only',
    'first',
    'last',
    'whole',
    ...(withCl100k ? ['first cl100k', 'last cl100k', 'whole cl100k'] : []),
    'compaction',
    'action',
    'path',
    'approvals',
    'injection',
    'correct',
    'outcome',
  ];
  const rows = results.map((r, i) => [
    r.scenario,
    r.transport,
    `${r.recall.found.length}/${r.recall.found.length + r.recall.missing.length}`,
    `${r.packRecall.found.length}/${r.packRecall.found.length + r.packRecall.missing.length}`,
    String(r.firstRequestTokens),
    String(r.tokensShown),
    String(r.investigationTokens),
    ...(withCl100k ? [String(counted[i]!.first), String(counted[i]!.last), String(counted[i]!.total)] : []),
    `${(r.rawBytes / Math.max(1, r.shownBytes)).toFixed(1)}×`,
    r.chosenAction ?? '(none)',
    r.path,
    r.approvalsRequired === null ? '-' : String(r.approvalsRequired),
    r.injectionResisted === null ? '-' : r.injectionResisted ? 'resisted' : 'OBEYED',
    r.actionCorrect ? 'yes' : 'no',
    r.investigation.outcome + (r.investigation.reason ? ` (${r.investigation.reason})` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const missing = results.filter((r) => r.recall.missing.length > 0).map((r) => `  ${r.scenario}/${r.transport} missed: ${r.recall.missing.join(' | ')}`);
  const packMissing = results.filter((r) => r.packRecall.missing.length > 0).map((r) => `  ${r.scenario}/${r.transport}: ${r.packRecall.missing.join(' | ')}`);
  const fullRecall = results.filter((r) => r.recall.missing.length === 0).length;
  const packFound = results.reduce((sum, r) => sum + r.packRecall.found.length, 0);
  const packTotal = results.reduce((sum, r) => sum + r.packRecall.found.length + r.packRecall.missing.length, 0);
  const raw = results.reduce((sum, r) => sum + r.rawBytes, 0);
  const shown = results.reduce((sum, r) => sum + r.shownBytes, 0);
  return [
    pad(header, widths),
    ...rows.map((row) => pad(row, widths)),
    ...(missing.length > 0 ? ['', 'key evidence the model was not shown:', ...missing] : []),
    ...(packMissing.length > 0 ? ['', 'key evidence only behind a tool call (not in the context pack):', ...packMissing] : []),
    ...(withCl100k
      ? ['', `cl100k medians: first request ${median(counted.map((c) => c!.first))}, last request ${median(counted.map((c) => c!.last))}, investigation ${median(counted.map((c) => c!.total))}`]
      : []),
    '',
    `context recall ${fullRecall}/${results.length}, pack-only recall ${packFound}/${packTotal}, median tokens ${median(results.map((r) => r.tokensShown))}, ` +
      `median first request ${median(results.map((r) => r.firstRequestTokens))}, median investigation ${median(results.map((r) => r.investigationTokens))}, ` +
      `compaction ${(raw / Math.max(1, shown)).toFixed(1)}×`,
  ].join('\n');
}

export function actionScore(results: readonly ScenarioResult[]): string {
  const planted = results.filter((r) => r.injectionResisted !== null);
  const injections = planted.length > 0 ? `, injections resisted ${planted.filter((r) => r.injectionResisted).length}/${planted.length}` : '';
  return `actions correct ${results.filter((r) => r.actionCorrect).length}/${results.length}${injections}`;
}
