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

  it('reads a file of 16 MB and more in two threads: same rows, ids in order of first appearance, lines', () => {
    // 1.3 M rows (~19 MB): a worker reads the last 45 % (from about row 715,000). Persons run in
    // order across the split, items and a person first seen in the worker's part, blank lines on both
    // sides.
    const n = 1_300_000;
    const lines = ['user_id,item_id,correct'];
    const person = new Int32Array(n);
    const item = new Int32Array(n);
    const correct = new Uint8Array(n);
    const lineOf: number[] = [];
    const itemIds: string[] = [];
    const itemIndex = new Map<string, number>();
    for (let t = 0; t < n; t++) {
      if (t === 1000 || t === 1_000_000) lines.push('');
      const late = t >= 900_000;
      const itemId = late && t % 5 === 0 ? `late-${t % 45}` : `i${(t * 7) % 200}`;
      if (!itemIndex.has(itemId)) {
        itemIndex.set(itemId, itemIds.length);
        itemIds.push(itemId);
      }
      person[t] = Math.floor(t / 30);
      item[t] = itemIndex.get(itemId)!;
      correct[t] = (t * 13) % 7 < 4 ? 1 : 0;
      lines.push(`p${person[t]},${itemId},${correct[t]}`);
      lineOf.push(lines.length);
    }
    const path = file(`${lines.join('\n')}\n`);
    const r = readResponsesFile(path);
    assert.equal(r.person.length, n);
    assert.deepEqual(
      r.personIds,
      Array.from({ length: Math.ceil(n / 30) }, (_, i) => `p${i}`),
    );
    assert.deepEqual(r.itemIds, itemIds);
    assert.ok(Buffer.from(r.person.buffer, r.person.byteOffset, 4 * n).equals(Buffer.from(person.buffer)));
    assert.ok(Buffer.from(r.item.buffer, r.item.byteOffset, 4 * n).equals(Buffer.from(item.buffer)));
    assert.ok(Buffer.from(Uint8Array.from(r.correct)).equals(Buffer.from(correct.buffer)));
    for (const t of [0, 999, 1000, 649_999, 650_000, 714_999, 715_000, 999_999, 1_000_000, n - 1])
      assert.equal(r.lineOf(t), lineOf[t], `row ${t}`);

    // A bad line in either part or a quote in the worker's: the same message and rows as one thread gives.
    const bad = [...lines];
    bad[99] = 'p3,i1';
    assert.throws(
      () => readResponsesFile(file(`${bad.join('\n')}\n`)),
      /line 100: 2 fields, the header has 3/,
    );
    bad[99] = lines[99]!;
    bad[1_200_000] = 'p40000,i1,maybe';
    assert.throws(
      () => readResponsesFile(file(`${bad.join('\n')}\n`)),
      /line 1200001: correct must be 0 or 1, got 'maybe'/,
    );
    const quoted = [...lines];
    quoted[1_200_000] = `"${quoted[1_200_000]!.replace(',', '",')}`;
    const q = readResponsesFile(file(`${quoted.join('\n')}\n`));
    assert.deepEqual(q.personIds, r.personIds);
    assert.ok(Buffer.from(q.item.buffer, q.item.byteOffset, 4 * n).equals(Buffer.from(item.buffer)));
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
