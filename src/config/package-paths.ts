import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The directory holding Responder's package.json, whether run from src/ or dist/. */
export function packageRoot(): string {
  if (root) return root;
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('cannot find the Responder package root');
    directory = parent;
  }
  root = directory;
  return root;
}

/**
 * Relative paths in config (catalog, policies, inventory) resolve against the working
 * directory first, then against the package, so the shipped defaults work from anywhere.
 */
export function resolveShippedPath(path: string): string {
  if (isAbsolute(path)) return path;
  const fromCwd = resolve(path);
  if (existsSync(fromCwd)) return fromCwd;
  const fromPackage = join(packageRoot(), path);
  return existsSync(fromPackage) ? fromPackage : fromCwd;
}

/** An executable the project installs under .tools/bin (OPA) wins over a bare name on PATH. */
export function resolveTool(name: string): string {
  if (name.includes('/')) return resolveShippedPath(name);
  const bundled = join(packageRoot(), '.tools', 'bin', name);
  return existsSync(bundled) ? bundled : name;
}
