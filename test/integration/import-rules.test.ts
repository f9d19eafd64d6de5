// `seedtest import` refuses a broken or conflicting file as a whole: one line naming the file, the
// line and the field, and not a row written; a re-import never moves a session backwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importFile } from '../../src/cli/data.js';
import { tableChecksums } from '../helpers/checksums.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const OPTIONS = { earliest: '2000-01-01' };

describe('seedtest import: refusals and re-imports', () => {
  let database: TestDatabase;
  let dir: string;
  let n = 0;

  before(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'seedtest-import-'));
    await database.db.insertInto('topic').values({ topic_id: 't', name: 'T' }).execute();
    await database.db
      .insertInto('item')
      .values([
        { item_id: 'q1', topic_id: 't' },
        { item_id: 'q2', topic_id: 't' },
      ])
      .execute();
    await database.db
      .insertInto('learner')
      .values([{ user_id: 'bob' }, { user_id: 'carol' }])
      .execute();
    await database.db
      .insertInto('exam_session')
      .values([
        { session_id: 'bobs', user_id: 'bob', status: 'open', started_at: new Date('2026-11-20T10:00:00Z') },
        {
          session_id: 'carols-open',
          user_id: 'carol',
          status: 'open',
          started_at: new Date('2026-11-20T10:00:00Z'),
        },
      ])
      .execute();
  });
  after(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, text: string) => {
    const path = join(dir, `${n++}-${name}`);
    writeFileSync(path, text);
    return path;
  };
  const line = (o: Record<string, unknown>) => JSON.stringify(o);
  const session = (o: Record<string, unknown> = {}) => ({
    session_id: 'eve-1',
    user_id: 'eve',
    started_at: '2026-11-21T09:00:00Z',
    completed_at: '2026-11-21T09:30:00Z',
    questions: [{ question_id: 'q1', is_correct: true, time_spent_sec: 20 }],
    ...o,
  });

  /** The import fails with one line naming the file, the line and the field, and writes nothing. */
  async function assertRefused(path: string, format: 'exam-results' | 'csv', lineNo: number, field: string) {
    const before = await tableChecksums(database);
    await assert.rejects(importFile(database, path, format, OPTIONS), (err: Error) => {
      assert.ok(['ImportError', 'CsvError'].includes(err.name), `${err.name}: ${err.message}`);
      assert.ok(!err.message.includes('\n'), err.message);
      assert.ok(err.message.startsWith(`${path}: line ${lineNo}: `), err.message);
      assert.ok(err.message.includes(field), `${field} not named: ${err.message}`);
      return true;
    });
    assert.equal(await tableChecksums(database), before, 'written on refusal');
  }

  it('counts in its summary line with the right plurals', async () => {
    const one = file('one.jsonl', `${line(session({ session_id: 'solo-1', user_id: 'solo' }))}\n`);
    assert.equal(
      await importFile(database, one, 'exam-results', OPTIONS),
      `imported ${one}: 1 session, 1 attempt inserted, 0 already present, 1 new learner, 0 new items`,
    );
  });

  it("refuses a JSON line or CSV row naming another learner's session", async () => {
    await assertRefused(
      file('x.jsonl', `${line(session())}\n${line(session({ session_id: 'bobs' }))}\n`),
      'exam-results',
      2,
      'session_id',
    );
    await assertRefused(
      file(
        'x.csv',
        'session_id,user_id,item_id,correct,answered_at\n' +
          'eve-2,eve,q1,1,2026-11-21T10:00:00Z\nbobs,eve,q2,0,2026-11-21T10:01:00Z\n',
      ),
      'csv',
      3,
      'session_id',
    );
  });

  it('refuses timestamps without a zone, whatever the host time zone', async () => {
    await assertRefused(
      file('x.jsonl', line(session({ started_at: '2026-11-30 23:30:00', completed_at: null }))),
      'exam-results',
      1,
      'started_at',
    );
    await assertRefused(
      file('x.csv', 'session_id,user_id,item_id,correct,answered_at\neve-3,eve,q1,1,2026-11-30 23:30:00\n'),
      'csv',
      2,
      'answered_at',
    );
  });

  it('refuses each broken file with one line naming file, line and field', async () => {
    const q = (o: Record<string, unknown>) => ({
      questions: [{ question_id: 'q1', is_correct: true, ...o }],
    });
    const cases: [string, string, number, string][] = [
      ['twice', `${line(session())}\n${line(session())}`, 2, 'session_id'],
      ['hints', `${line(session(q({ used_hints: 40000 })))}`, 1, 'used_hints'],
      ['time', `${line(session(q({ time_spent_sec: 1e12 })))}`, 1, 'time_spent_sec'],
      ['order', `${line(session({ completed_at: '2026-11-21T08:00:00Z' }))}`, 1, 'completed_at'],
      [
        'stored',
        `${line(session({ session_id: 'carols-open', user_id: 'carol', started_at: '2026-11-19T09:00:00Z', completed_at: '2026-11-19T09:30:00Z' }))}`,
        1,
        'completed_at',
      ],
      [
        'year0',
        `${line(session({ started_at: '0000-01-01T00:00:00Z', completed_at: null }))}`,
        1,
        'started_at',
      ],
      ['future', `${line(session(q({ answered_at: '9999-01-01T00:00:00Z' })))}`, 1, 'answered_at'],
    ];
    for (const [name, text, lineNo, field] of cases) {
      await assertRefused(file(`${name}.jsonl`, text), 'exam-results', lineNo, field);
    }
  });

  it('refuses a CSV header naming a column twice', async () => {
    await assertRefused(
      file(
        'dup.csv',
        'session_id,user_id,item_id,correct,answered_at,correct\neve-4,eve,q1,1,2026-11-21T10:00:00Z,0\n',
      ),
      'csv',
      1,
      'correct',
    );
  });

  it('a re-import never moves a session backwards', async () => {
    const done = session({ session_id: 'eve-done' });
    await importFile(database, file('done.jsonl', line(done)), 'exam-results', OPTIONS);
    await importFile(
      database,
      file('again.jsonl', line({ ...done, completed_at: undefined })),
      'exam-results',
      OPTIONS,
    );
    const row = await database.db
      .selectFrom('exam_session')
      .selectAll()
      .where('session_id', '=', 'eve-done')
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'completed');
    assert.equal(row.completed_at?.toISOString(), '2026-11-21T09:30:00.000Z');
  });
});
