// The map of docs/architecture.md, checked: each table is written by exactly one module of src/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const sources = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: join('src', f), text: readFileSync(join('src', f), 'utf8') }));

/** The tables of the migrations (pg-boss keeps its own schema and is not ours to write). */
function tables(): string[] {
  const dir = 'src/db/migrations';
  const sql = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((m) => m[1]!);
}

/** Kysely's builders and raw SQL: insertInto('t'), updateTable('t'), deleteFrom('t'), INSERT INTO t … */
function writes(text: string, table: string): boolean {
  const builder = new RegExp(
    `\\b(insertInto|updateTable|deleteFrom|mergeInto)\\(\\s*'${table}(?: as \\w+)?'`,
  );
  const raw = new RegExp(`\\b(INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+${table}\\b`);
  return builder.test(text) || raw.test(text);
}

test('each table has exactly one module that writes it', () => {
  const all = tables();
  assert.ok(all.length >= 20, `found ${all.length} tables`);
  const owners = Object.fromEntries(
    all.map((t) => [
      t,
      sources.filter((s) => writes(s.text, t) && !s.file.includes('/migrations/')).map((s) => s.file),
    ]),
  );
  // schema_migrations is written by the migrator; every other table by its feature's repository.
  for (const [table, files] of Object.entries(owners)) {
    assert.equal(files.length, 1, `${table} is written by ${files.length ? files.join(', ') : 'no module'}`);
  }
});

test('route files run no SQL: they call a repository or a service', () => {
  const routes = sources.filter((s) => /\/(routes|[\w-]+-routes)\.ts$/.test(s.file));
  assert.ok(routes.length >= 12, `found ${routes.length} route files`);
  const query = /\.(selectFrom|insertInto|updateTable|deleteFrom)\(|\bsql`|\.query\(/;
  for (const { file, text } of routes) assert.doesNotMatch(text, query, `${file} runs SQL`);
});
