// Loads the synthetic platform into the database in batches of learners, through the same
// set-based writes as every other ingestion path. Used by `seedtest demo`, tests and benchmarks.
import type { Db } from '../db/connection.js';
import { type SourceBatch, upsertItems, upsertTopics, writeSourceBatch } from '../ingestion/repository.js';
import type { LearnerRecords, PlatformStream } from '../synthetic/platform.js';

export interface LoadSummary {
  topics: number;
  items: number;
  learners: number;
  sessions: number;
  attempts: number;
}

const LEARNERS_PER_BATCH = 200;
/**
 * Batches written while the next is generated. On a server the database works in parallel with the
 * generator (and a second connection); on the embedded database writes queue on its one lease.
 */
const WRITES_IN_FLIGHT = 2;

export async function loadPlatform(
  db: Db,
  platform: PlatformStream,
  onProgress: (learnersDone: number) => void = () => {},
  /** Sessions starting at or after this time are left out (the demo's current week ends now). */
  until?: Date,
): Promise<LoadSummary> {
  await db.transaction().execute(async (trx) => {
    await upsertTopics(trx, platform.topics);
    await upsertItems(trx, platform.items);
  });
  const summary: LoadSummary = {
    topics: platform.topics.length,
    items: platform.items.length,
    learners: 0,
    sessions: 0,
    attempts: 0,
  };
  let pending: LearnerRecords[] = [];
  const inFlight: Promise<void>[] = [];
  let learnersWritten = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch: SourceBatch = {
      topics: [],
      items: [],
      learners: pending.map((r) => r.learner),
      sessions: pending.flatMap((r) => r.sessions),
      attempts: pending.flatMap((r) => r.attempts),
      goals: pending.flatMap((r) => (r.goal ? [r.goal] : [])),
    };
    summary.learners += pending.length;
    summary.sessions += batch.sessions.length;
    summary.attempts += batch.attempts.length;
    const n = pending.length;
    pending = [];
    const write = writeSourceBatch(db, batch).then(() => {
      learnersWritten += n;
      onProgress(learnersWritten);
    });
    write.catch(() => {}); // observed below, in order; this only stops an early "unhandled" report
    inFlight.push(write);
    if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
  };
  for (const records of platform.learners()) {
    pending.push(until ? beforeTime(records, until) : records);
    if (pending.length >= LEARNERS_PER_BATCH) await flush();
  }
  await flush();
  for (const write of inFlight) await write;
  return summary;
}

function beforeTime(records: LearnerRecords, until: Date): LearnerRecords {
  // A session is kept only when it had ended (or, never completed, begun) before `until`.
  const sessions = records.sessions.filter((s) => (s.completed_at ?? s.started_at) < until);
  const kept = new Set(sessions.map((s) => s.session_id));
  const attempts = records.attempts.filter((a) => kept.has(a.session_id) && a.answered_at < until);
  return { ...records, sessions, attempts };
}
