#!/usr/bin/env node
// The layer rule (docs/architecture.md "The layer rule"), run by scripts/test.sh and `npm run check:layers`.
//
// 1. The rules in .dependency-cruiser.mjs: what each layer may import, no module cycles.
// 2. What dependency-cruiser cannot say: no folder imports one that imports it back. The module graph of
//    src/ (type-only imports included, tests left out) is collapsed to top-level folders under src/ —
//    a file directly in src/ (main.ts, version.ts) is its own node — and every folder cycle is listed
//    with the imports that make it.
//
// Exits 1 on any violation, 0 otherwise; the last line is "layers: N modules, M folder edges, V violations".
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const MAX_CYCLES = 200;
const ARROW = ' → ';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const isTestFile = (path) => /\.(test|contract)\.ts$/.test(path);
/** src/agent/x.ts → "agent"; src/main.ts → "main.ts"; outside src/ → undefined. */
const folderOf = (path) => {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length >= 2 ? parts[1] : undefined;
};
const typeOnly = (dependencyTypes = []) =>
  dependencyTypes.some((type) => type === 'type-only' || type === 'type-import') ? ' (type-only)' : '';

async function cruiseSrc() {
  const options = await extractDepcruiseOptions('./.dependency-cruiser.mjs');
  const tsConfigFile = options.tsConfig?.fileName;
  const tsConfig = tsConfigFile ? extractTSConfig(tsConfigFile) : undefined;
  const { output } = await cruise(['src'], { ...options, outputType: 'json' }, {}, { tsConfig });
  return typeof output === 'string' ? JSON.parse(output) : output;
}

/** "from\0to" → the module imports that make the folder edge from → to (tests left out). */
function folderEdges(modules) {
  const edges = new Map();
  for (const module of modules) {
    const from = folderOf(module.source);
    if (from === undefined || isTestFile(module.source)) continue;
    for (const dependency of module.dependencies) {
      if (dependency.couldNotResolve) continue;
      const to = folderOf(dependency.resolved);
      if (to === undefined || to === from) continue;
      const key = `${from}\0${to}`;
      if (!edges.has(key)) edges.set(key, []);
      edges.get(key).push(`${module.source}${ARROW}${dependency.resolved}${typeOnly(dependency.dependencyTypes)}`);
    }
  }
  for (const imports of edges.values()) imports.sort();
  return edges;
}

/** Every elementary cycle of the folder graph, each once, starting at its alphabetically first folder. */
function folderCycles(edges) {
  const next = new Map();
  for (const key of edges.keys()) {
    const [from, to] = key.split('\0');
    if (!next.has(from)) next.set(from, []);
    next.get(from).push(to);
  }
  for (const targets of next.values()) targets.sort();
  const cycles = [];
  const starts = [...next.keys()].sort();
  let truncated = false;
  for (const start of starts) {
    const path = [start];
    const onPath = new Set(path);
    const walk = (node) => {
      for (const target of next.get(node) ?? []) {
        if (cycles.length >= MAX_CYCLES) {
          truncated = true;
          return;
        }
        if (target === start) cycles.push([...path, start]);
        else if (target > start && !onPath.has(target)) {
          path.push(target);
          onPath.add(target);
          walk(target);
          onPath.delete(target);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return { cycles, truncated };
}

/** dependency-cruiser reports a module cycle once per module on it: keep one, rotated to its smallest module. */
function uniqueViolations(violations) {
  const seen = new Set();
  const unique = [];
  for (const violation of violations) {
    let key;
    if (violation.cycle?.length) {
      const ring = [violation.from, ...violation.cycle.map((step) => step.name)].slice(0, -1);
      const first = ring.indexOf([...ring].sort()[0]);
      key = `${violation.rule.name}\0${[...ring.slice(first), ...ring.slice(0, first)].join('\0')}`;
    } else {
      key = `${violation.rule.name}\0${violation.from}\0${violation.to}`;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(violation);
  }
  return unique;
}

function describeViolation(violation) {
  if (violation.cycle?.length) {
    return [violation.from, ...violation.cycle.map((step) => `${step.name}${typeOnly(step.dependencyTypes)}`)].join(ARROW);
  }
  return `${violation.from}${ARROW}${violation.to}${typeOnly(violation.dependencyTypes)}`;
}

const result = await cruiseSrc();
const srcModules = result.modules.filter((module) => folderOf(module.source) !== undefined);
const edges = folderEdges(srcModules);
const { cycles, truncated } = folderCycles(edges);
const ruleViolations = uniqueViolations(result.summary.violations ?? []);
const rules = new Map((result.summary.ruleSetUsed?.forbidden ?? []).map((rule) => [rule.name, rule]));

if (cycles.length > 0) {
  console.log(`\nlayers: ${cycles.length}${truncated ? '+' : ''} folder cycle(s) — no folder may import one that imports it back`);
  for (const cycle of cycles) {
    const hops = cycle.slice(1).map((to, index) => edges.get(`${cycle[index]}\0${to}`)[0]);
    console.log(`  ${cycle.join(ARROW)} via ${hops.join(', ')}`);
  }
  if (truncated) console.log(`  (stopped after ${MAX_CYCLES} cycles)`);
  const onCycles = new Set(cycles.flatMap((cycle) => cycle.slice(1).map((to, index) => `${cycle[index]}\0${to}`)));
  console.log('\nlayers: every import on those cycles, by folder edge');
  for (const key of [...onCycles].sort()) {
    console.log(`  ${key.replace('\0', ARROW)}`);
    for (const line of edges.get(key)) console.log(`    ${line}`);
  }
}

if (ruleViolations.length > 0) {
  console.log(`\nlayers: ${ruleViolations.length} rule violation(s) (.dependency-cruiser.mjs)`);
  const byRule = new Map();
  for (const violation of ruleViolations) byRule.set(violation.rule.name, [...(byRule.get(violation.rule.name) ?? []), violation]);
  for (const [name, violations] of byRule) {
    const comment = rules.get(name)?.comment;
    console.log(`  ${name}${comment ? ` — ${comment}` : ''}`);
    for (const violation of violations) console.log(`    ${describeViolation(violation)}`);
  }
}

const total = cycles.length + ruleViolations.length;
if (total > 0) console.log('');
console.log(`layers: ${srcModules.length} modules, ${edges.size} folder edges, ${total} violations`);
process.exitCode = total > 0 ? 1 : 0;
