import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CsvError } from '../../../src/cli/csv.js';
import { readResponsesFile } from '../../../src/cli/responses-csv.js';

const dir = mkdtempSync(join(tmpdir(), 'responses-csv-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `r${n++}.csv`);
  writeFileSync(path, text);
  return path;
}

/** The rows back as [user, item, correct, line], for comparisons. */
function rows(path: string): [string, string, number, number][] {
  const r = readResponsesFile(path);
  return Array.from(r.person, (p, t) => [
    r.personIds[p]!,
    r.itemIds[r.item[t]!]!,
    r.correct[t]!,
    r.lineOf(t),
  ]);
}

describe('readResponsesFile', () => {
  it('reads rows with their lines: CRLF, blank lines, extra columns, no final newline, spaces around correct', () => {
    const path = file('ts,user_id,item_id,correct\r\n1,u1,i1,1\r\n\r\n2,u2,i1, 0 \r\n3,u1,i2,1');
    assert.deepEqual(rows(path), [
      ['u1', 'i1', 1, 2],
      ['u2', 'i1', 0, 4],
      ['u1', 'i2', 1, 5],
    ]);
    const r = readResponsesFile(path);
    assert.deepEqual(r.personIds, ['u1', 'u2']);
    assert.deepEqual(r.itemIds, ['i1', 'i2']);
  });

  it('gives the same rows as the general CSV parser when a field is quoted (and for UTF-8 ids)', () => {
    const plain = file('user_id,item_id,correct\n학생1,i1,1\nu2,i"2,0\n');
    const quoted = file('user_id,item_id,correct\n"학생1",i1,1\nu2,"i""2",0\n');
    assert.deepEqual(rows(quoted), [
      ['학생1', 'i1', 1, 2],
      ['u2', 'i"2', 0, 3],
    ]);
    // An unquoted " inside a field is read as the general parser reads it: the row is quoted data.
    assert.throws(() => rows(plain), CsvError);
  });

  it('interns many distinct ids across chunk boundaries and lines longer than a chunk', () => {
    const lines = ['user_id,item_id,correct,note'];
    const expected: [string, string, number, number][] = [];
    for (let t = 0; t < 60_000; t++) {
      const user = `user-${t % 7919}`;
      const item = `item-${(t * 31) % 2003}`;
      const note = t === 30_000 ? 'x'.repeat(3 << 20) : String(t);
      lines.push(`${user},${item},${t % 3 === 0 ? 1 : 0},${note}`);
      expected.push([user, item, t % 3 === 0 ? 1 : 0, t + 2]);
    }
    const r = readResponsesFile(file(`${lines.join('\n')}\n`));
    assert.equal(r.person.length, 60_000);
    assert.equal(r.personIds.length, 7919);
    assert.equal(r.itemIds.length, 2003);
    const got = Array.from(r.person, (p, t) => [
      r.personIds[p],
      r.itemIds[r.item[t]!],
      r.correct[t],
      r.lineOf(t),
    ]);
    assert.deepEqual(got, expected);
  });

  it('names the file and line of what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['user_id,item_id,correct\nu1,i1,1\nu2,i1,yes\n', /line 3: correct must be 0 or 1, got 'yes'/],
      ['user_id,item_id,correct\nu1,i1,1\nu2,i1\n', /line 3: 2 fields, the header has 3/],
      ['user_id,item_id,correct\n,i1,1\n', /line 2: empty user_id or item_id/],
      ['user_id,item,correct\nu1,i1,1\n', /line 1: missing column\(s\) item_id/],
      ['user_id,item_id,correct,item_id\nu1,i1,1,i2\n', /line 1: column 'item_id' appears twice/],
      ['user_id,item_id,correct\n', /no responses/],
      ['', /empty file/],
    ];
    for (const [text, message] of cases) {
      const path = file(text);
      assert.throws(
        () => readResponsesFile(path),
        (e: Error) => {
          assert.ok(e instanceof CsvError, e.message);
          assert.match(e.message, message);
          assert.ok(e.message.startsWith(path), e.message);
          return true;
        },
      );
    }
  });
});
