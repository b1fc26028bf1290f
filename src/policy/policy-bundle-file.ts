import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { PolicyError } from '../domain/errors.js';

const TAR_BLOCK = 512;

/** The files of a .tar.gz, by path without a leading slash. Bundles are small; reading whole is fine. */
export function readTarGz(bytes: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(bytes);
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + TAR_BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + TAR_BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    offset += TAR_BLOCK;
    if (type === '0' || type === '') files.set(name.replace(/^\/+/, ''), Buffer.from(tar.subarray(offset, offset + size)));
    offset += Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  return files;
}

const ManifestSchema = z.object({
  revision: z.string().default(''),
  wasm: z.array(z.object({ entrypoint: z.string(), module: z.string() })).default([]),
});

export interface PolicyBundle {
  revision: string | null;
  wasm: Buffer;
  data: Record<string, unknown>;
  entrypoints: string[];
}

export async function readPolicyBundle(bundleFile: string): Promise<PolicyBundle> {
  let files: Map<string, Buffer>;
  try {
    files = readTarGz(await readFile(bundleFile));
  } catch (error) {
    throw new PolicyError('policy_bundle_unreadable', `cannot read policy bundle ${bundleFile}: ${(error as Error).message}`);
  }
  const manifestText = files.get('.manifest');
  const manifest = ManifestSchema.parse(manifestText ? JSON.parse(manifestText.toString('utf8')) : {});
  const module = manifest.wasm[0]?.module.replace(/^\/+/, '') ?? 'policy.wasm';
  const wasm = files.get(module);
  if (!wasm) throw new PolicyError('policy_bundle_unreadable', `policy bundle ${bundleFile} has no wasm module (built without -t wasm?)`);
  const dataText = files.get('data.json');
  return {
    revision: manifest.revision || null,
    wasm,
    data: dataText ? (JSON.parse(dataText.toString('utf8')) as Record<string, unknown>) : {},
    entrypoints: manifest.wasm.map((w) => w.entrypoint),
  };
}

export async function readBundleRevision(bundleFile: string): Promise<string | null> {
  return (await readPolicyBundle(bundleFile)).revision;
}
