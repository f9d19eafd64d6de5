import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { renderReport } from '../../../src/reports/render.js';
import {
  createReportStore,
  FsReportStore,
  ReportNotFoundError,
  reportKey,
  type S3ReportStore,
} from '../../../src/reports/storage.js';
import { startS3, type TestS3 } from '../../helpers/s3.js';
import { fullWeek } from './fixtures.js';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('report keys', () => {
  it('follow reports/{user_id}/{week_start}/{edition}.{format} with a safe user segment', () => {
    assert.equal(reportKey('u-1', '2026-11-16', 'learner', 'pdf'), 'reports/u-1/2026-11-16/learner.pdf');
    assert.equal(reportKey('u-1', '2026-11-16', 'teacher', 'html'), 'reports/u-1/2026-11-16/teacher.html');
    assert.equal(
      reportKey('a/../b', '2026-11-16', 'learner', 'html'),
      'reports/a%2F..%2Fb/2026-11-16/learner.html',
    );
    assert.throws(() => reportKey('..', '2026-11-16', 'learner', 'html'));
    assert.throws(() => reportKey('u', '2026-W47', 'learner', 'html'));
  });
});

describe('filesystem store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reports-fs-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes under DATA_DIR/reports atomically and overwrites in place', async () => {
    const store = createReportStore({ dataDir: dir, s3ForcePathStyle: false, awsRegion: 'ap-northeast-2' });
    assert.ok(store instanceof FsReportStore);
    const key = reportKey('u-1', '2026-11-16', 'learner', 'html');
    await store.put(key, Buffer.from('first'), 'text/html');
    await store.put(key, Buffer.from('second'), 'text/html');
    assert.equal(await readFile(join(dir, 'reports/u-1/2026-11-16/learner.html'), 'utf8'), 'second');
    assert.deepEqual(
      await readdir(join(dir, 'reports/u-1/2026-11-16')),
      ['learner.html'],
      'no temporary file left',
    );
    assert.equal((await bytesOf(await store.get(key))).toString(), 'second');
  });

  it('keeps the old object when a write fails, and leaves no temporary file', async () => {
    const store = new FsReportStore(dir);
    const key = reportKey('u-2', '2026-11-16', 'learner', 'pdf');
    await store.put(key, Buffer.from('old'), 'application/pdf');
    // Not a buffer: the write throws after the temporary file was opened.
    const failing = { length: 1 } as unknown as Buffer;
    await assert.rejects(store.put(key, failing, 'application/pdf'));
    assert.equal(await readFile(join(dir, key), 'utf8'), 'old');
    assert.deepEqual(await readdir(join(dir, 'reports/u-2/2026-11-16')), ['learner.pdf']);
  });

  it('rejects unknown keys and keys outside the store', async () => {
    const store = new FsReportStore(dir);
    await assert.rejects(store.get('reports/nobody/2026-11-16/report.pdf'), ReportNotFoundError);
    await assert.rejects(store.put('../outside', Buffer.from('x'), 'text/plain'), /escapes/);
  });
});

describe('S3 store against s3rver', () => {
  let s3: TestS3;
  let store: S3ReportStore;

  before(async () => {
    s3 = await startS3();
    store = s3.store();
  });
  after(async () => {
    store.close();
    await s3.close();
  });

  it('round-trips a rendered PDF byte for byte (sha256), with SSE requested', async () => {
    const pdf = await renderReport(fullWeek(), 'pdf');
    const key = reportKey('u-1001', '2026-11-16', 'learner', 'pdf');
    await store.put(key, pdf, 'application/pdf');
    const back = await bytesOf(await store.get(key));
    assert.equal(back.length, pdf.length);
    assert.equal(sha256(back), sha256(pdf));
    const url = await store.presignedUrl(key, 900);
    assert.match(url, /X-Amz-Expires=900/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(pdf));
    await assert.rejects(store.get('reports/nobody/2026-11-16/report.pdf'), ReportNotFoundError);
  });

  it('put() rejects when the server is stopped', async () => {
    await s3.stop();
    await assert.rejects(
      store.put(reportKey('u-1', '2026-11-16', 'learner', 'html'), Buffer.from('x'), 'text/html'),
    );
  });
});
