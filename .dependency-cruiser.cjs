/**
 * Which code may import which: checked by `npm test` (`npm run lint:deps`), so a change that
 * bends the structure fails before it lands. docs/architecture.md#code-layout explains it.
 *
 * packages/core/src is one folder per domain over shared plumbing. Plumbing (db/, aws/,
 * entities/, telemetry/ and the root files: config, errors, context, actor, user-id, erased-users) imports no domain.
 * Each domain imports plumbing and only the domains it declares below; nothing imports the
 * composition (packages/api/src/wiring.ts wires stream consumers and job kinds together).
 */
const CORE = '^packages/core/src/';
const PLUMBING = ['db', 'aws', 'entities', 'telemetry'];
const ROOT_FILES = '(config|errors|context|actor|user-id|erased-users)[.]ts$';

/** Each domain and the domains it may import. */
const DOMAINS = {
  'code-format': [],
  idempotency: [],
  // API keys store a create's answer (without the key) through the idempotency guard.
  access: ['idempotency'],
  cost: [],
  stream: [],
  jobs: [],
  book: ['code-format', 'idempotency', 'cost'],
  code: ['book', 'code-format', 'idempotency', 'stream'],
  stock: ['book', 'code', 'code-format', 'idempotency', 'jobs'],
  webhooks: ['book', 'code', 'idempotency', 'stream'],
  activity: ['book', 'code'],
  // What the table's older shapes become: the domains whose shapes they produce, and jobs to run in.
  migrations: ['jobs', 'book', 'code', 'idempotency', 'access', 'activity'],
  // Erasing a person: a job over scan lanes that rewrites the stored responses of the idempotency domain.
  erasure: ['jobs', 'idempotency'],
};

const folders = (names) => `${CORE}(${names.join('|')})/`;
const allowedFrom = (names) => `${CORE}((${[...names, ...PLUMBING].join('|')})/|${ROOT_FILES})`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules cannot be understood (or tested) apart.',
      from: { path: '^(packages|scripts|bench|infra)/' },
      to: { circular: true },
    },
    {
      name: 'core-is-not-http',
      severity: 'error',
      comment: 'The domain has no HTTP in it: it never imports the API, the client, the console or Hono.',
      from: { path: CORE },
      to: { path: ['^packages/(api|client|console)/', 'node_modules/(hono|@hono)/'] },
    },
    {
      name: 'core-only-through-its-entry',
      severity: 'error',
      comment: 'Other packages use @coupons/core (or an entry its package.json exports), never a file inside it, so the core can move its files freely.',
      from: { path: '^(packages/(api|client|console)|scripts|bench)/' },
      to: { path: CORE, pathNot: `${CORE}(index|code-format/code-format|telemetry/metric-registry|webhooks/event-types)[.]ts$` },
    },
    {
      name: 'console-calls-the-api-through-the-client',
      severity: 'error',
      comment: 'The console is a client like any other: it reaches the API only through @coupons/client (types from the API are fine).',
      from: { path: '^packages/console/' },
      to: { path: '^packages/(core|api)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'plumbing-imports-no-domain',
      severity: 'error',
      comment: 'db/, aws/, entities/ and the root files are shared by every domain, so they import none.',
      from: { path: `${CORE}((${PLUMBING.join('|')})/|${ROOT_FILES})` },
      to: { path: CORE, pathNot: allowedFrom([]) },
    },
    ...Object.entries(DOMAINS).map(([domain, may]) => ({
      name: `${domain}-imports-only-what-it-declares`,
      severity: 'error',
      comment: `${domain}/ may import plumbing${may.length ? ` and ${may.join(', ')}` : ''} (DOMAINS in .dependency-cruiser.cjs).`,
      from: { path: folders([domain]) },
      to: { path: CORE, pathNot: [allowedFrom([domain, ...may])] },
    })),
    {
      name: 'every-core-file-in-a-known-place',
      severity: 'error',
      comment: 'A new folder in packages/core/src is a new domain: declare it in DOMAINS.',
      from: {},
      to: { path: CORE, pathNot: [folders([...Object.keys(DOMAINS), ...PLUMBING]), `${CORE}(${ROOT_FILES}|index[.]ts$)`] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 (the Go compiler) has no JS API for dependency-cruiser to parse with; swc parses
    // the same sources and sees type-only imports too, but not .tsx: the console's components are
    // cruised by .dependency-cruiser.console.cjs (Babel) for the rules that concern them.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    exclude: { path: ['^[.]sst/', '^dist/', '^bench/out/', '^packages/[^/]+/dist/', '[.]tsx$'] },
  },
};
