import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { anchorFileIn, parseAnchorLines, readAnchorFile, type SourcedAnchor } from '../audit/anchors.js';
import { createKeyring, DEFAULT_KEY_FILE, readAuditKey, type AuditKey, type AuditKeyring } from '../audit/audit-key.js';
import type { Config } from '../config/config.schema.js';
import { createLokiApi } from '../tools/loki-api.js';

/** What `audit verify` and `audit export` read besides the database: keys and anchors. */

export interface KeysForVerify {
  /** The key the service seals with, when it can be read here; unsealed events are sealed with it first. */
  current: AuditKey | null;
  keyring: AuditKeyring;
}

/**
 * The service's key (audit.keyFile, or dataDir/audit.key when that exists), the keys of earlier rotations
 * and any given with --key-file. A configured file that cannot be read is an error naming it.
 */
export function keysForVerify(config: Pick<Config, 'dataDir' | 'audit'>, extraKeyFiles: readonly string[]): KeysForVerify {
  const defaultFile = join(resolve(config.dataDir), DEFAULT_KEY_FILE);
  const currentFile = config.audit.keyFile ?? (existsSync(defaultFile) ? defaultFile : null);
  const current = currentFile ? readAuditKey(currentFile) : null;
  const others = [...config.audit.previousKeyFiles, ...extraKeyFiles].map((file) => readAuditKey(file));
  return { current, keyring: createKeyring([...(current ? [current] : []), ...others]) };
}

export interface GatheredAnchors {
  anchors: SourcedAnchor[];
  warnings: string[];
  sources: string[];
}

const LOKI_ANCHOR_QUERY = '{service_name="responder", kind="audit.anchor"}';

/** The anchors in the data dir's file, in any further files given, and in Loki when the service ships there. */
export async function gatherAnchors(
  config: Pick<Config, 'dataDir' | 'audit' | 'loki'>,
  options: { files: readonly string[]; loki: boolean; lokiLookbackHours: number },
): Promise<GatheredAnchors> {
  const result: GatheredAnchors = { anchors: [], warnings: [], sources: [] };
  for (const file of [anchorFileIn(config.dataDir), ...options.files.map((f) => resolve(f))]) {
    const read = readAnchorFile(file);
    result.anchors.push(...read.anchors);
    result.sources.push(`${file} (${read.anchors.length})`);
    if (read.unreadable > 0) result.warnings.push(`${read.unreadable} line(s) of ${file} are not anchors and were skipped`);
  }
  if (options.loki && config.loki.url && config.audit.loki.enabled) {
    const loki = createLokiApi({ url: config.loki.url, timeoutMs: config.loki.timeoutMs, tenantId: config.loki.tenantId });
    const end = new Date();
    try {
      const answer = await loki.queryRange(LOKI_ANCHOR_QUERY, { start: new Date(end.getTime() - options.lokiLookbackHours * 3_600_000), end, limit: 100, direction: 'backward' });
      const lines = answer.data.flatMap((stream) => stream.values.map(([, line]) => line)).join('\n');
      const parsed = parseAnchorLines(lines, `Loki (${config.loki.url})`);
      result.anchors.push(...parsed.anchors);
      result.sources.push(`Loki ${config.loki.url} (${parsed.anchors.length})`);
    } catch (error) {
      result.warnings.push(`could not read anchors from Loki at ${config.loki.url}: ${(error as Error).message}`);
    }
  }
  return result;
}
