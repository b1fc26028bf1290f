import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Pool } from '../database/database.js';
import { AuditError } from '../domain/errors.js';
import { AnchorSchema, type SourcedAnchor } from './anchors.js';
import { contentSha256 } from './audit-hash.js';
import { ChainEventSchema, ChainLinkSchema, type ChainEntry } from './chain-entry.js';
import { sealedEvents } from './verify.js';

export const EXPORT_FORMAT = 'responder.audit.export/1';

/**
 * The first line of an export. Then the anchors, then the entries of seq fromSeq..toSeq in order: every
 * event, or for an incident's export that incident's events in full and every other event in the range
 * as its link. `complete` says toSeq was the head when exported, so a newer anchor means a cut-off tail.
 */
export const ExportHeaderSchema = z.object({
  type: z.literal('export'),
  format: z.literal(EXPORT_FORMAT),
  exportedAt: z.string(),
  since: z.string().nullable(),
  incidentId: z.string().nullable(),
  fromSeq: z.number().int().positive().nullable(),
  toSeq: z.number().int().min(0).nullable(),
  complete: z.boolean(),
});
export type ExportHeader = z.infer<typeof ExportHeaderSchema>;

const ExportAnchorSchema = AnchorSchema.extend({ source: z.string().optional() });

export type ExportLine = ExportHeader | (z.infer<typeof ExportAnchorSchema>) | ChainEntry;

export interface ExportScope {
  /** Events from the first one written at or after this time, to the head. */
  since?: Date;
  /** Only this incident's events in full; the others between its first and last as links. */
  incidentId?: string;
}

async function exportRange(pool: Pool, scope: ExportScope): Promise<{ fromSeq: number | null; toSeq: number | null }> {
  if (scope.incidentId) {
    const range = await pool.query<{ from_seq: number | null; to_seq: number | null }>(
      'SELECT min(seq) AS from_seq, max(seq) AS to_seq FROM audit_events WHERE incident_id = $1 AND seq IS NOT NULL',
      [scope.incidentId],
    );
    return { fromSeq: range.rows[0]?.from_seq ?? null, toSeq: range.rows[0]?.to_seq ?? null };
  }
  const head = (await pool.query<{ head: number | null }>('SELECT max(seq) AS head FROM audit_events')).rows[0]?.head ?? null;
  if (!scope.since) return { fromSeq: head === null ? null : 1, toSeq: head };
  // Sealing order is not exactly time order, so the range starts at the first event of the time and runs unbroken to the head.
  const first = await pool.query<{ seq: number | null }>('SELECT min(seq) AS seq FROM audit_events WHERE at >= $1 AND seq IS NOT NULL', [scope.since.toISOString()]);
  const fromSeq = first.rows[0]?.seq ?? null;
  return { fromSeq, toSeq: fromSeq === null ? null : head };
}

/**
 * The lines of an export: everything `audit verify --file` needs besides the key. The anchors are given
 * by the caller, read before the range is, so none of them can be newer than the head exported.
 */
export async function* exportAuditTrail(pool: Pool, scope: ExportScope, anchors: readonly SourcedAnchor[]): AsyncGenerator<ExportLine> {
  const { fromSeq, toSeq } = await exportRange(pool, scope);
  const complete = !scope.incidentId;
  yield {
    type: 'export',
    format: EXPORT_FORMAT,
    exportedAt: new Date().toISOString(),
    since: scope.since?.toISOString() ?? null,
    incidentId: scope.incidentId ?? null,
    fromSeq,
    toSeq,
    complete,
  };
  if (fromSeq === null || toSeq === null) return;
  const seen = new Set<string>();
  for (const anchor of [...anchors].sort((a, b) => a.seq - b.seq)) {
    if (anchor.seq < fromSeq || (!complete && anchor.seq > toSeq) || seen.has(anchor.mac)) continue;
    seen.add(anchor.mac);
    yield anchor;
  }
  for await (const event of sealedEvents(pool, { fromSeq })) {
    if (event.seq > toSeq) break;
    // Events sealed before the chain was keyed have no link form that can be checked: they are exported whole.
    if (scope.incidentId && event.incidentId !== scope.incidentId && event.keyId !== null) {
      yield { type: 'link', seq: event.seq, incidentId: event.incidentId, prevHash: event.prevHash, hash: event.hash, keyId: event.keyId, contentSha256: contentSha256(event) };
    } else {
      yield event;
    }
  }
}

export interface ReadExport {
  header: ExportHeader;
  anchors: SourcedAnchor[];
  /** The entries, read from the file as they are walked. */
  entries: AsyncGenerator<ChainEntry>;
}

function invalid(file: string, line: number, message: string): AuditError {
  return new AuditError('audit_export_invalid', `${file} line ${line}: ${message}`, { file, line });
}

function parseLine(file: string, number: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(file, number, `not JSON (${(error as Error).message})`);
  }
}

function entryOf(file: string, number: number, json: unknown): ChainEntry {
  const type = (json as { type?: unknown } | null)?.type;
  const schema = type === 'event' ? ChainEventSchema : type === 'link' ? ChainLinkSchema : null;
  if (!schema) throw invalid(file, number, `expected an event or a link, found ${JSON.stringify(type ?? null)}`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid(file, number, parsed.error.issues.map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`).join('; '));
  return parsed.data;
}

/** Opens an export: the header and anchors at once, the entries as a stream, so a large export is never held whole. */
export async function readAuditExport(file: string): Promise<ReadExport> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })[Symbol.asyncIterator]();
  let number = 0;
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      const result = await lines.next().catch((error: NodeJS.ErrnoException) => {
        throw new AuditError('audit_export_invalid', `cannot read the export ${file}: ${error.code ?? error.message}`, { file });
      });
      if (result.done) return undefined;
      number += 1;
      if (result.value.trim() !== '') return result.value;
    }
  };
  const first = await nextLine();
  if (first === undefined) throw invalid(file, 1, 'the file is empty; an export starts with its header');
  const header = ExportHeaderSchema.safeParse(parseLine(file, number, first));
  if (!header.success) throw invalid(file, number, `not an export header (${EXPORT_FORMAT})`);

  const anchors: SourcedAnchor[] = [];
  let pending: ChainEntry | undefined;
  for (let text = await nextLine(); text !== undefined; text = await nextLine()) {
    const json = parseLine(file, number, text);
    if ((json as { type?: unknown } | null)?.type === 'anchor') {
      const anchor = ExportAnchorSchema.safeParse(json);
      if (!anchor.success) throw invalid(file, number, 'an anchor line that does not parse');
      anchors.push({ ...anchor.data, source: `the export (${anchor.data.source ?? 'unknown source'})` });
      continue;
    }
    pending = entryOf(file, number, json);
    break;
  }

  async function* entries(): AsyncGenerator<ChainEntry> {
    if (!pending) return;
    yield pending;
    for (let text = await nextLine(); text !== undefined; text = await nextLine()) {
      const json = parseLine(file, number, text);
      if ((json as { type?: unknown } | null)?.type === 'anchor') throw invalid(file, number, 'an anchor after the entries: anchors come right after the header');
      yield entryOf(file, number, json);
    }
  }
  return { header: header.data, anchors, entries: entries() };
}
