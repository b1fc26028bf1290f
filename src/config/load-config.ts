import { readFileSync, existsSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from '../domain/errors.js';
import { ConfigSchema, SECRET_PATHS, type Config } from './config.schema.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export interface LoadConfigOptions {
  /** Explicit file; when absent RESPONDER_CONFIG, then ./responder.yaml if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

type Tree = Record<string, unknown>;

const ENV_PREFIX = 'RESPONDER_';
const FILE_SUFFIX = 'File';

/** RESPONDER_SERVER__PORT → ['server','port']; RESPONDER_INTAKE__GRAFANA__HMAC_SECRET → ['intake','grafana','hmacSecret']. */
export function envKeyToPath(name: string): string[] {
  return name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function isSecretPath(path: readonly string[]): boolean {
  return SECRET_PATHS.some((pattern) => {
    const parts = pattern.split('.');
    return parts.length === path.length && parts.every((part, i) => part === path[i] || (part === '*' && /^\d+$/.test(path[i]!)));
  });
}

function readSecretFile(file: string, where: string, problems: ConfigProblem[]): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    problems.push({ path: where, message: `cannot read secret file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}` });
    return undefined;
  }
}

/** `secretFile: /path` becomes `secret: <file contents>` for the keys in SECRET_PATHS, so secrets stay out of the YAML. */
function resolveSecretFiles(node: unknown, path: string[], problems: ConfigProblem[]): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    node.forEach((child, index) => resolveSecretFiles(child, [...path, String(index)], problems));
    return;
  }
  const tree = node as Tree;
  for (const [key, value] of Object.entries(tree)) {
    const target = key.slice(0, -FILE_SUFFIX.length);
    if (key.endsWith(FILE_SUFFIX) && typeof value === 'string' && isSecretPath([...path, target])) {
      const secret = readSecretFile(value, [...path, key].join('.'), problems);
      delete tree[key];
      if (secret !== undefined) tree[target] = secret;
    } else {
      resolveSecretFiles(value, [...path, key], problems);
    }
  }
}

function readYaml(file: string, problems: ConfigProblem[]): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ path: file, message: `cannot read config file: ${(error as NodeJS.ErrnoException).code ?? error}` });
    return {};
  }
  const document = parseDocument(text, { prettyErrors: true });
  for (const error of document.errors) {
    problems.push({ path: file, message: `YAML: ${error.message}` });
  }
  if (document.errors.length > 0) return {};
  const value = document.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ path: file, message: 'config file must hold a mapping at the top level' });
    return {};
  }
  return value as Tree;
}

function applyEnv(tree: Tree, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): void {
  if (env.DATABASE_URL) setPath(tree, ['database', 'url'], env.DATABASE_URL);
  for (const [name, value] of Object.entries(env)) {
    // Empty counts as unset, as for DATABASE_URL: `RESPONDER_SERVER__PORT=${PORT}` with PORT unset would
    // otherwise coerce to port 0 and bind a random port.
    if (!name.startsWith(ENV_PREFIX) || !value || name === 'RESPONDER_CONFIG') continue;
    const secretPath = name.endsWith('_FILE') ? envKeyToPath(name.slice(0, -'_FILE'.length)) : null;
    if (secretPath && isSecretPath(secretPath)) {
      const secret = readSecretFile(value, name, problems);
      if (secret !== undefined) setPath(tree, secretPath, secret);
    } else {
      setPath(tree, envKeyToPath(name), value);
    }
  }
}

/** The config file a command reads, or `responder init` writes: --config, else $RESPONDER_CONFIG, else ./responder.yaml. */
export function configFilePath(options: LoadConfigOptions = {}): string {
  return options.file ?? (options.env ?? process.env).RESPONDER_CONFIG ?? 'responder.yaml';
}

/** The config file that will be read: an explicit one (which must exist), or ./responder.yaml when present. */
export function configFileToRead(options: LoadConfigOptions = {}): string | undefined {
  const path = configFilePath(options);
  const explicit = options.file ?? (options.env ?? process.env).RESPONDER_CONFIG;
  return explicit !== undefined || existsSync(path) ? path : undefined;
}

function valueAt(tree: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Tree)[key] : undefined), tree);
}

/** zod's coercion says "Expected number, received nan" for `port: 80a`; name the value that was given instead. */
function problemMessage(issue: { code: string; message: string; path: (string | number)[]; expected?: unknown; received?: unknown }, tree: Tree): string {
  if (issue.code === 'invalid_type' && issue.expected === 'number' && issue.received === 'nan') {
    return `expected a number, got ${JSON.stringify(valueAt(tree, issue.path))}`;
  }
  return issue.message;
}

/** Reads file + env into a raw tree and validates it, reporting every problem at once. */
export function checkConfig(options: LoadConfigOptions = {}): { config: Config; problems: [] } | { config: null; problems: ConfigProblem[] } {
  const env = options.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const file = configFileToRead({ ...options, env });
  const tree = file ? readYaml(file, problems) : {};
  resolveSecretFiles(tree, [], problems);
  applyEnv(tree, env, problems);
  const parsed = ConfigSchema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        // Named at the key itself, so a typo reads like every other problem: `server.prot: unknown key`.
        for (const key of issue.keys) problems.push({ path: [...issue.path, key].join('.'), message: 'unknown key' });
      } else {
        problems.push({ path: issue.path.join('.'), message: problemMessage(issue, tree) });
      }
    }
  }
  if (problems.length > 0 || !parsed.success) return { config: null, problems };
  return { config: parsed.data, problems: [] };
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const result = checkConfig(options);
  if (result.config === null) throw new ConfigError(result.problems);
  return result.config;
}
