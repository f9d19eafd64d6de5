// The boundaries of docs/architecture.md, checked by `npm run lint` (dependency-cruiser).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle is a contract without a file: give the shared types their own module.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pure-irt-and-math',
      severity: 'error',
      comment:
        'The IRT engine and the numerical helpers import nothing of the rest of the program (but the error base class and the worker-thread starter).',
      from: { path: '^src/(irt|math)/' },
      to: { path: '^src/', pathNot: ['^src/(irt|math)/', '^src/user-error\\.ts$', '^src/threads\\.ts$'] },
    },
    {
      name: 'pure-kpi-maths',
      severity: 'error',
      comment: 'The KPI maths import only the numerical helpers.',
      from: { path: '^src/kpis/kpis\\.ts$' },
      to: { path: '^src/', pathNot: ['^src/math/', '^src/user-error\\.ts$'] },
    },
    {
      name: 'pure-cat-engine',
      severity: 'error',
      comment: 'The adaptive-testing engine and simulator stand on the IRT engine only.',
      from: { path: '^src/cat/' },
      to: { path: '^src/', pathNot: ['^src/(cat|irt|math)/', '^src/user-error\\.ts$'] },
    },
    {
      name: 'pure-synthetic',
      severity: 'error',
      comment: 'The synthetic platform is a pure generator.',
      from: { path: '^src/synthetic/' },
      to: { path: '^src/', pathNot: ['^src/(synthetic|irt|math)/', '^src/user-error\\.ts$'] },
    },
    {
      name: 'only-the-registry-imports-jobs',
      severity: 'error',
      comment: 'A job module is reached through the registry (names, schedules, the runner), never directly.',
      from: { path: '^src/', pathNot: '^src/jobs/registry\\.ts$' },
      to: { path: '^src/[^/]+/job\\.ts$' },
    },
    {
      name: 'no-sql-in-routes',
      severity: 'error',
      comment: 'Routes validate, authorise, call a service or repository and map; SQL lives in repositories.',
      from: { path: '(^src/[^/]+/routes\\.ts$)|(^src/[^/]+/[^/]+-routes\\.ts$)' },
      to: { path: 'node_modules/kysely/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'db-is-infrastructure',
      severity: 'error',
      comment: 'db/ (connection, migrations, schema) knows no feature, except the job-run sweep at open.',
      from: { path: '^src/db/' },
      to: {
        path: '^src/',
        pathNot: ['^src/db/', '^src/user-error\\.ts$', '^src/jobs/runs\\.ts$', '^src/kpis/kpis\\.ts$'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/dashboard/client/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
