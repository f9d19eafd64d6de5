// The error catalogue (src/api/error-codes.ts) and the table of docs/api.md say the same: each code
// with its status, no code missing from either.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../../src/api/error-codes.js';

/** `| 404 | \`A\` / \`B\` | when |` rows of the "Errors" table: code → status. */
function documentedTable(markdown: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const line of markdown.split('\n')) {
    const m = /^\| (\d{3}) \| ([^|]+) \|/.exec(line);
    if (!m) continue;
    for (const code of m[2]!.matchAll(/`([A-Z_]+)`/g)) table.set(code[1]!, Number(m[1]));
  }
  return table;
}

test('every code of the catalogue is in the table of docs/api.md with its status, and nothing else is', () => {
  const documented = documentedTable(readFileSync('docs/api.md', 'utf8'));
  const catalogue = new Map(Object.entries(ERROR_CODES).map(([code, [status]]) => [code, status]));
  assert.ok(catalogue.size > 30);
  for (const [code, status] of catalogue)
    assert.equal(documented.get(code), status, `${code} (${status}) in docs/api.md`);
  for (const [code, status] of documented)
    assert.equal(catalogue.get(code), status, `${code} (${status}) in the catalogue`);
});
