import type { Command } from 'commander';
import { readAnchorFile } from '../../audit/anchors.js';
import { readAuditExport } from '../../audit/audit-export.js';
import { createKeyring, readAuditKey } from '../../audit/audit-key.js';
import { crossCheckTables } from '../../audit/cross-check-tables.js';
import { sealAllAuditEvents } from '../../audit/seal.js';
import { verifyChainEntries, type ChainReport } from '../../audit/verify-chain.js';
import { verifyAuditChain } from '../../audit/verify.js';
import { loadConfig } from '../../config/load-config.js';
import { createPool } from '../../database/database.js';
import { openEmbeddedDatabase } from '../../database/embedded-postgres.js';
import { gatherAnchors, keysForVerify } from '../audit-inputs.js';
import { commandGroup, type CliContext } from '../cli-context.js';

interface VerifyOptions {
  file?: string;
  keyFile: string[];
  anchors: string[];
  loki: boolean;
  lokiLookbackHours: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function printReport(report: ChainReport, warnings: readonly string[]): void {
  if (report.ok) {
    console.log(`audit chain OK: ${report.events} events, head ${report.head}`);
    const parts = [`${report.keyed} sealed with the key`];
    if (report.plain > 0) parts.push(`${report.plain} sealed before the chain was keyed (plain SHA-256)`);
    if (report.links > 0) parts.push(`${report.links} of other incidents checked by their link`);
    console.log(`  ${parts.join(', ')}`);
    const newest = report.newestAnchor;
    console.log(newest ? `  anchors: ${report.anchorsMatched} matched; newest: event ${newest.seq} at ${newest.at} in ${newest.source}` : '  anchors: none');
  } else {
    console.error(`audit chain BROKEN at event ${report.brokenAt}: ${report.problem} (${report.events} events verified before it)`);
  }
  for (const warning of [...warnings, ...report.warnings]) console.error(`warning: ${warning}`);
}

async function verifyExport(file: string, options: VerifyOptions): Promise<boolean> {
  const exported = await readAuditExport(file);
  const keys = createKeyring(options.keyFile.map((keyFile) => readAuditKey(keyFile)));
  const extra = options.anchors.flatMap((anchorFile) => readAnchorFile(anchorFile).anchors);
  const { header } = exported;
  const scope = header.incidentId ? `incident ${header.incidentId}` : header.since ? `since ${header.since}` : 'the whole chain';
  console.log(`export of ${scope}, made ${header.exportedAt}: events ${header.fromSeq ?? '-'}–${header.toSeq ?? '-'}`);
  const report = await verifyChainEntries(exported.entries, {
    keys,
    anchors: [...exported.anchors, ...extra],
    fromSeq: header.fromSeq,
    toSeq: header.toSeq,
    toHead: header.complete,
  });
  printReport(report, []);
  return report.ok;
}

async function verifyDatabase(cli: CliContext, options: VerifyOptions): Promise<boolean> {
  const config = loadConfig({ file: cli.configFile() });
  const keys = keysForVerify(config, options.keyFile);
  // Read before the chain, so events sealed meanwhile cannot make a current anchor look like a cut-off.
  const gathered = await gatherAnchors(config, { files: options.anchors, loki: options.loki, lokiLookbackHours: Number(options.lokiLookbackHours) });
  // Beside a running service this connects to its database and leaves it running.
  const embedded = config.database.url ? null : await openEmbeddedDatabase({ dataDir: config.dataDir, port: config.database.embeddedPort });
  const pool = createPool(config.database.url ?? embedded!.url, 2);
  try {
    // Events written but not yet sealed (the service stopped first) are sealed now, then checked.
    if (keys.current) {
      const sealed = await sealAllAuditEvents(pool, keys.current);
      if (sealed > 0) console.log(`sealed ${sealed} event(s) that were written but not yet on the chain`);
    }
    const report = await verifyAuditChain(pool, { keys: keys.keyring, anchors: gathered.anchors });
    const warnings = [...gathered.warnings];
    if (report.unsealed > 0) warnings.push(`${report.unsealed} event(s) are not sealed yet${keys.current ? '' : ' (no key here to seal them with)'} and were not checked`);
    printReport(report, warnings);
    const mismatches = await crossCheckTables(pool);
    if (mismatches.length > 0) {
      console.error(`audit tables DO NOT MATCH the chain (${mismatches.length}):`);
      for (const mismatch of mismatches) console.error(`  - ${mismatch.problem}`);
    } else if (report.ok) {
      console.log('  approvals, approval requests, runs and incident results match their events');
    }
    return report.ok && mismatches.length === 0;
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

export function registerAuditVerifyCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'audit')
    .command('verify')
    .description('check every seal and link of the audit chain, the chain against its anchors outside the database, and the approvals and runs behind it; name the first bad event')
    .option('--file <export>', 'verify an export from `responder audit export` instead of the database (needs --key-file)')
    .option('--key-file <file>', 'an audit key to verify with (repeatable): for --file, or a key of an earlier rotation', collect, [])
    .option('--anchors <file>', 'further anchors to check against, e.g. a copy of audit-anchors.jsonl kept elsewhere (repeatable)', collect, [])
    .option('--no-loki', 'do not read anchors from Loki')
    .option('--loki-lookback-hours <hours>', 'how far back to look for anchors in Loki', '720')
    .action(async (options: VerifyOptions) => {
      const ok = options.file ? await verifyExport(options.file, options) : await verifyDatabase(cli, options);
      if (!ok) process.exitCode = 1;
    });
}
