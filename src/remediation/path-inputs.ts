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

/** The strings a path input carries: one path, or each item of a list of paths. */
function pathValues(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Problems with the path inputs of one proposal: every path target must be canonical and absolute, and
 * an input with configured roots must lie under one of them.
 */
export function pathProblems(args: { pathInputs: readonly string[]; roots: Readonly<Record<string, readonly string[]>>; inputs: Record<string, unknown> }): string[] {
  const problems: string[] = [];
  const names = new Set([...args.pathInputs, ...Object.keys(args.roots)]);
  for (const input of names) {
    if (!(input in args.inputs)) continue;
    const roots = args.roots[input];
    for (const value of pathValues(args.inputs[input])) {
      if (typeof value !== 'string') {
        problems.push(`/${input} must be an absolute path, got ${JSON.stringify(value)?.slice(0, 80)}`);
      } else if (!isCanonicalAbsolutePath(value)) {
        problems.push(`/${input} must be an absolute path with no "..", "." or empty segment and no trailing slash: ${JSON.stringify(value.slice(0, 200))}`);
      } else if (roots && !roots.some((root) => isUnderRoot(value, root))) {
        problems.push(`/${input} ${JSON.stringify(value.slice(0, 200))} is not under an allowed root (${roots.join(', ')})`);
      }
    }
  }
  return problems;
}
