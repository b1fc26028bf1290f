import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

/**
 * A copy of a catalog whose path roots point into a scratch root: the shipped schemas and playbooks
 * unchanged, only the operator's `pathRoots` setting moved, as an operator would edit it.
 */
export function catalogUnderRoot(source: string, destination: string, root: string): void {
  cpSync(source, destination, { recursive: true });
  for (const file of readdirSync(destination).filter((f) => f.endsWith('.yaml'))) {
    const entry = parse(readFileSync(join(destination, file), 'utf8')) as { pathRoots?: Record<string, string[]> };
    if (!entry.pathRoots) continue;
    for (const input of Object.keys(entry.pathRoots)) entry.pathRoots[input] = entry.pathRoots[input]!.map((path) => join(root, path));
    writeFileSync(join(destination, file), stringify(entry));
  }
}

export interface FakeKubectl {
  binDir: string;
  /** Sets a deployment's replica count, creating it. */
  deploy(namespace: string, name: string, replicas: number): void;
  replicas(namespace: string, name: string): number | null;
  /** Every call, one argument list per line joined by spaces. */
  calls(): string[];
}

/**
 * A `kubectl` that keeps deployments' replica counts in files: enough of get / scale (with
 * --current-replicas and --dry-run=server) / rollout status for the scale-deployment playbook, answering
 * as kubectl does when a deployment is missing or its count changed meanwhile.
 */
export function fakeKubectl(directory: string): FakeKubectl {
  const binDir = join(directory, 'fake-kubectl-bin');
  const state = join(directory, 'kube-state');
  const log = join(directory, 'kubectl-calls.log');
  mkdirSync(binDir, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(
    join(binDir, 'kubectl'),
    `#!/bin/sh
echo "$*" >> "${log}"
verb=$1; shift
name=; namespace=default; replicas=; current=; dry=
for argument; do
  case "$argument" in
    --namespace=*) namespace=\${argument#--namespace=} ;;
    --replicas=*) replicas=\${argument#--replicas=} ;;
    --current-replicas=*) current=\${argument#--current-replicas=} ;;
    --dry-run=server) dry=1 ;;
    deployment/*) name=\${argument#deployment/} ;;
    deployment|--*) ;;
    *) [ -z "$name" ] && [ "$verb" = get ] && name=$argument ;;
  esac
done
file="${state}/$namespace.$name"
if [ ! -f "$file" ]; then echo "Error from server (NotFound): deployments.apps \\"$name\\" not found" >&2; exit 1; fi
case "$verb" in
  get) cat "$file" ;;
  scale)
    if [ -n "$current" ] && [ "$(cat "$file")" != "$current" ]; then echo "error: Expected replicas to be $current, was $(cat "$file")" >&2; exit 1; fi
    [ -z "$dry" ] && printf '%s' "$replicas" > "$file"
    echo "deployment.apps/$name scaled\${dry:+ (server dry run)}" ;;
  rollout) echo "deployment \\"$name\\" successfully rolled out" ;;
  *) echo "fake kubectl: unsupported $verb" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(join(binDir, 'kubectl'), 0o755);
  return {
    binDir,
    deploy: (namespace, name, replicas) => writeFileSync(join(state, `${namespace}.${name}`), String(replicas)),
    replicas: (namespace, name) => (existsSync(join(state, `${namespace}.${name}`)) ? Number(readFileSync(join(state, `${namespace}.${name}`), 'utf8')) : null),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}

export interface NetworkNamespace {
  /** Holds an `nft` that is the real nft, run inside the namespace. */
  binDir: string;
  /** Runs a command inside the namespace and returns its stdout. */
  run(argv: string[], input?: string): string;
  remove(): void;
}

/** Whether this machine can give a test its own network namespace with real nftables (root, nft, unshare, nsenter, ip). */
export function networkNamespacesAvailable(): { ok: true } | { ok: false; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'creating a network namespace needs root' };
  for (const binary of ['nft', 'unshare', 'nsenter', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0) return { ok: false, reason: `${binary} is not installed (scripts/install-deps.sh --test installs nftables; ip is Debian's iproute2)` };
  }
  return { ok: true };
}

/**
 * A network namespace of the test's own, kept by a bind mount at `directory/netns`: the kernel's real
 * nftables, where a firewall change touches nothing of the machine running the test.
 */
export function createNetworkNamespace(directory: string): NetworkNamespace {
  const handle = join(directory, 'netns');
  mkdirSync(directory, { recursive: true });
  writeFileSync(handle, '');
  execFileSync('unshare', [`--net=${handle}`, 'true']);
  const binDir = join(directory, 'netns-bin');
  mkdirSync(binDir, { recursive: true });
  const nft = execFileSync('sh', ['-c', 'command -v nft'], { encoding: 'utf8' }).trim();
  writeFileSync(join(binDir, 'nft'), `#!/bin/sh\nexec nsenter --net="${handle}" "${nft}" "$@"\n`);
  chmodSync(join(binDir, 'nft'), 0o755);
  return {
    binDir,
    run: (argv, input) => execFileSync('nsenter', [`--net=${handle}`, ...argv], { encoding: 'utf8', input }),
    remove: () => {
      spawnSync('umount', [handle]);
    },
  };
}
