import { quoteValue, type InputProblem } from './input-problems.js';

/**
 * An absolute path in its one canonical spelling: starts with `/`, no empty, `.` or `..` segment, no
 * trailing slash, no NUL or newline. Checked as text because the value is about to be acted on elsewhere:
 * the playbook then refuses a path whose real location (symlinks resolved) differs from this text.
 */
export function isCanonicalAbsolutePath(value: string): boolean {
  if (value === '/') return true;
  if (!value.startsWith('/') || value.endsWith('/') || /[\0\n\r]/.test(value)) return false;
  return value
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** Whether `path` is `root` itself or inside it, segment by segment (`/var/logs` is not under `/var/log`). */
export function isUnderRoot(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** Each string a path input carries, with how a reader names it: the input, or `paths[1]` for an item of a list. */
function pathValues(input: string, value: unknown): { name: string; value: unknown }[] {
  return Array.isArray(value) ? value.map((item: unknown, index) => ({ name: `${input}[${index}]`, value: item })) : [{ name: input, value }];
}

/**
 * Problems with the path inputs of one proposal: every path target must be canonical and absolute, and
 * an input with configured roots must lie under one of them.
 */
export function pathProblems(args: { pathInputs: readonly string[]; roots: Readonly<Record<string, readonly string[]>>; inputs: Record<string, unknown> }): InputProblem[] {
  const problems: InputProblem[] = [];
  const names = new Set([...args.pathInputs, ...Object.keys(args.roots)]);
  for (const input of names) {
    if (!(input in args.inputs)) continue;
    const roots = args.roots[input];
    for (const { name, value } of pathValues(input, args.inputs[input])) {
      if (typeof value !== 'string') {
        problems.push({ input: name, message: `must be an absolute path, got ${quoteValue(value)}` });
      } else if (!isCanonicalAbsolutePath(value)) {
        problems.push({ input: name, message: `must be an absolute path with no "..", "." or empty segment and no trailing slash; got ${quoteValue(value)}` });
      } else if (roots && !roots.some((root) => isUnderRoot(value, root))) {
        problems.push({ input: name, message: `${quoteValue(value)} is not under an allowed root (${roots.join(', ')})` });
      }
    }
  }
  return problems;
}
