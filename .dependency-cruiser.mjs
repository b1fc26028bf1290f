// The layer rule (docs/architecture.md "The layer rule"): dependencies point inward,
// domain ← capability folders ← workflow ← http, cli, main.
// Checked by scripts/check-layers.mjs (which adds the folder-cycle check this file cannot express);
// `npx depcruise src` runs these rules alone.

// Capability folders (ingest, agent, tools, policy, approval, notify, remediation, execution, verification,
// audit, store, eval, testing, supervision, config, ...) are every folder under src/ but these four, so a new
// folder is held to the capability rule until someone decides otherwise here.
const NOT_CAPABILITY = '^src/(domain|workflow|http|cli)/';
const TEST_FILE = '\\.(test|contract)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'domain-imports-only-zod',
      comment: 'src/domain holds zod schemas and pure rules: it imports zod and other domain files, nothing else.',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: TEST_FILE },
      to: { pathNot: ['^src/domain/', '(^|/)node_modules/zod/'] },
    },
    {
      name: 'capability-imports-outer-layer',
      comment: 'A capability folder must not import workflow, http, cli or the composition root.',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: NOT_CAPABILITY },
      to: { path: ['^src/(workflow|http|cli)/', '^src/main\\.ts$'] },
    },
    {
      name: 'workflow-imports-outer-layer',
      comment: 'src/workflow must not import http, cli or the composition root.',
      severity: 'error',
      from: { path: '^src/workflow/' },
      to: { path: ['^src/(http|cli)/', '^src/main\\.ts$'] },
    },
    {
      name: 'http-imports-cli',
      comment: 'src/http must not import src/cli.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-imports-test-or-bench',
      comment: 'Shipped code never imports test/ or bench/ (unit tests may use test/support: the build leaves them out).',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_FILE },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'shipped-code-imports-testing',
      comment:
        'src/testing holds fakes; only the eval command and the demo (src/eval, src/cli) ship with them. Tests may use them.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(testing|eval|cli)/', TEST_FILE] },
      to: { path: '^src/testing/' },
    },
    {
      name: 'eval-never-executes',
      comment:
        'The eval validates proposals against the shipped catalog and never runs a playbook: nothing it loads may reach an executor.',
      severity: 'error',
      from: { path: '^src/eval/', pathNot: TEST_FILE },
      to: { path: '^src/execution/', reachable: true },
    },
    {
      name: 'no-circular',
      comment: 'No module imports one that imports it back (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable-local-import',
      comment: 'A relative import that does not resolve would hide an edge from every rule above.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true, path: '^\\.' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '^(test|bench)/'] },
    exclude: { path: ['^dist/'] },
    // See `import type` too: types must respect the layers as well.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    skipAnalysisNotInRules: false,
  },
};
