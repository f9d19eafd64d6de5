// The boundary rules of `npm run lint` (.dependency-cruiser.cjs) catch what they are for: run on a
// planted tree (test/fixtures/boundaries: an import circle, the IRT engine importing the job framework,
// a job module imported around the registry) they fail, naming each; on src/ they pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');
const cli = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

const run = (cwd: string, outputType: string) =>
  spawnSync(
    process.execPath,
    [cli, 'src', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', outputType],
    {
      cwd,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );

/** The violations (from the JSON report) and the exit status of the run `npm run lint` makes. */
function cruise(cwd: string) {
  const out = JSON.parse(run(cwd, 'json').stdout) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] };
  };
  return {
    status: run(cwd, 'err').status,
    violations: out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`),
  };
}

test('the planted circle and boundary breaches fail the rules', () => {
  const { status, violations } = cruise(join(root, 'test', 'fixtures', 'boundaries'));
  assert.notEqual(status, 0);
  assert.deepEqual(violations.sort(), [
    'no-circular: src/irt/engine.ts → src/jobs/runner.ts',
    'only-the-registry-imports-jobs: src/cli/main.ts → src/kpis/job.ts',
    'pure-irt-and-math: src/irt/engine.ts → src/jobs/runner.ts',
  ]);
});

test('src/ keeps the boundaries', () => {
  const { status, violations } = cruise(root);
  assert.deepEqual(violations, []);
  assert.equal(status, 0);
});
