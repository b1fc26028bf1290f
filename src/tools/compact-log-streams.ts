import type { LokiStream } from './loki-api.js';
import { formatLabels } from './series-summary.js';

export interface CompactLogOptions {
  /** Longer lines are cut and marked with an ellipsis. */
  maxLineChars: number;
  /** backward lists newest first, as Loki returned them; forward oldest first. */
  direction: 'backward' | 'forward';
}

interface LineGroup {
  line: string;
  count: number;
  firstNs: bigint;
  lastNs: bigint;
}

function isoFromNs(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace('.000Z', 'Z');
}

function oneLine(line: string, maxChars: number): string {
  const flat = line.replace(/\r?\n/g, '\\n').trimEnd();
  return flat.length > maxChars ? `${flat.slice(0, maxChars)}…` : flat;
}

/**
 * Log lines for a model to read: each stream's labels once, identical lines folded into one with a count
 * and the span they cover, long lines cut. Repeated lines are the bulk of most incident logs.
 */
export function compactLogStreams(streams: readonly LokiStream[], options: CompactLogOptions): string {
  const sign = options.direction === 'forward' ? 1 : -1;
  const compare = (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -sign : sign);
  const total = streams.reduce((sum, s) => sum + s.values.length, 0);
  const blocks = streams
    .filter((s) => s.values.length > 0)
    .map((stream) => {
      const entries = stream.values.map(([ns, line]) => ({ ns: BigInt(ns), line })).sort((a, b) => compare(a.ns, b.ns));
      const groups = new Map<string, LineGroup>();
      for (const { ns, line } of entries) {
        const group = groups.get(line);
        if (group) {
          group.count += 1;
          group.lastNs = ns;
        } else {
          groups.set(line, { line, count: 1, firstNs: ns, lastNs: ns });
        }
      }
      return { labels: stream.stream, lead: entries[0]!.ns, groups: [...groups.values()], lines: entries.length };
    })
    .sort((a, b) => compare(a.lead, b.lead));

  const distinct = blocks.reduce((sum, b) => sum + b.groups.length, 0);
  const order = options.direction === 'forward' ? 'oldest first' : 'newest first';
  const head = `${total} line${total === 1 ? '' : 's'} in ${blocks.length} stream${blocks.length === 1 ? '' : 's'}, ${distinct} distinct, ${order}`;
  const body = blocks.flatMap((block) => [
    `${formatLabels(block.labels)} ${block.lines} line${block.lines === 1 ? '' : 's'}`,
    ...block.groups.map((g) => {
      const when = g.count === 1 ? isoFromNs(g.firstNs) : `${isoFromNs(g.firstNs)} … ${isoFromNs(g.lastNs)}`;
      return `  ${g.count}× ${when}  ${oneLine(g.line, options.maxLineChars)}`;
    }),
  ]);
  return [head, ...body].join('\n');
}
