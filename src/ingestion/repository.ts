// Set-based bulk writes of source data (learners, topics, items, sessions, attempts): one
// INSERT … SELECT FROM unnest(…) per batch, never a row at a time. Used by the import command and
// the synthetic platform loader; the HTTP ingestion routes write through the same statements.
import { type Insertable, sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { ExamSessionTable } from '../db/schema.js';
import { UserError } from '../user-error.js';

const BATCH = 5000;

export interface LearnerInput {
  user_id: string;
  org_id?: string | null;
  display_name?: string | null;
  locale?: 'ko' | 'en';
}
export interface TopicInput {
  topic_id: string;
  name: string;
  subject?: string | null;
  /** The name in each report language (the reports fall back to `name`, saying so). */
  name_ko?: string | null;
  name_en?: string | null;
}
export interface ItemInput {
  item_id: string;
  topic_id: string;
  tags?: string[];
  meta?: Record<string, unknown>;
}
export interface SessionInput {
  session_id: string;
  user_id: string;
  exam_id?: string | null;
  status: 'open' | 'completed' | 'abandoned';
  started_at: Date;
  completed_at?: Date | null;
}
export interface AttemptInput {
  session_id: string;
  user_id: string;
  item_id: string;
  correct: boolean;
  response_time_ms?: number | null;
  hints?: number;
  answered_at: Date;
  client_attempt_id?: string | null;
}

/** Runs one statement per batch of rows; returns the rows the statements affected. */
async function inBatches<T>(
  rows: readonly T[],
  statement: (batch: T[]) => Promise<{ numAffectedRows?: bigint }>,
): Promise<number> {
  let n = 0;
  for (let i = 0; i < rows.length; i += BATCH) {
    n += Number((await statement(rows.slice(i, i + BATCH))).numAffectedRows ?? 0);
  }
  return n;
}

/** Creates learners not seen before; existing rows are left as they are. Returns rows inserted. */
export async function upsertLearners(db: Db, rows: readonly LearnerInput[]): Promise<number> {
  return inBatches(rows, (b) =>
    sql`
      INSERT INTO learner (user_id, org_id, display_name, locale)
      SELECT * FROM unnest(${b.map((r) => r.user_id)}::text[], ${b.map((r) => r.org_id ?? null)}::text[],
        ${b.map((r) => r.display_name ?? null)}::text[], ${b.map((r) => r.locale ?? 'ko')}::text[])
      ON CONFLICT (user_id) DO NOTHING`.execute(db),
  );
}

/** `update` replaces what is stored (catalogue loads); `keep` only adds what is new (imports). */
export type OnConflict = 'update' | 'keep';

export async function upsertTopics(
  db: Db,
  rows: readonly TopicInput[],
  onConflict: OnConflict = 'update',
): Promise<number> {
  return inBatches(rows, (b) =>
    sql`
      INSERT INTO topic (topic_id, name, subject, name_ko, name_en)
      SELECT * FROM unnest(${b.map((r) => r.topic_id)}::text[], ${b.map((r) => r.name)}::text[],
        ${b.map((r) => r.subject ?? null)}::text[], ${b.map((r) => r.name_ko ?? null)}::text[],
        ${b.map((r) => r.name_en ?? null)}::text[])
      ON CONFLICT (topic_id) DO ${
        onConflict === 'keep'
          ? sql`NOTHING`
          : sql`UPDATE SET name = EXCLUDED.name, subject = EXCLUDED.subject, name_ko = EXCLUDED.name_ko,
                name_en = EXCLUDED.name_en`
      }`.execute(db),
  );
}

/** Items carry their tags as a JSON array per row: unnest cannot take a 2-D array of ragged rows. */
export async function upsertItems(
  db: Db,
  rows: readonly ItemInput[],
  onConflict: OnConflict = 'update',
): Promise<number> {
  return inBatches(rows, (b) =>
    sql`
      INSERT INTO item (item_id, topic_id, tags, meta)
      SELECT i, t, ARRAY(SELECT jsonb_array_elements_text(g)), m
      FROM unnest(${b.map((r) => r.item_id)}::text[], ${b.map((r) => r.topic_id)}::text[],
        ${b.map((r) => JSON.stringify(r.tags ?? []))}::jsonb[], ${b.map((r) => JSON.stringify(r.meta ?? {}))}::jsonb[])
        AS u(i, t, g, m)
      ON CONFLICT (item_id) DO ${
        onConflict === 'keep'
          ? sql`NOTHING`
          : sql`UPDATE SET topic_id = EXCLUDED.topic_id, tags = EXCLUDED.tags, meta = EXCLUDED.meta`
      }`.execute(db),
  );
}

/**
 * Inserts sessions. A session seen again never moves backwards: an open one takes the new status
 * and completion time, a completed one only a later completion time, an abandoned one stays.
 */
export async function upsertSessions(db: Db, rows: readonly SessionInput[]): Promise<number> {
  return inBatches(rows, (b) =>
    sql`
      INSERT INTO exam_session (session_id, user_id, exam_id, status, started_at, completed_at)
      SELECT * FROM unnest(${b.map((r) => r.session_id)}::text[], ${b.map((r) => r.user_id)}::text[],
        ${b.map((r) => r.exam_id ?? null)}::text[], ${b.map((r) => r.status)}::text[],
        ${b.map((r) => r.started_at.toISOString())}::timestamptz[],
        ${b.map((r) => r.completed_at?.toISOString() ?? null)}::timestamptz[])
      ON CONFLICT (session_id) DO UPDATE SET
        status = CASE WHEN exam_session.status = 'open' THEN EXCLUDED.status ELSE exam_session.status END,
        completed_at = CASE
          WHEN exam_session.status = 'open' THEN EXCLUDED.completed_at
          WHEN exam_session.status = 'completed' AND EXCLUDED.status = 'completed'
            THEN greatest(exam_session.completed_at, EXCLUDED.completed_at)
          ELSE exam_session.completed_at END
      WHERE exam_session.user_id = EXCLUDED.user_id`.execute(db),
  );
}

/**
 * Inserts attempts, copying topic_id from the item (callers check `unknownItems` first, in the
 * same transaction: an attempt on an unknown item would otherwise be dropped by the join). A
 * retried upload (same session and client_attempt_id) is skipped. Returns {inserted, duplicates}.
 */
export async function insertAttempts(
  db: Db,
  rows: readonly AttemptInput[],
): Promise<{ inserted: number; duplicates: number }> {
  const inserted = await inBatches(rows, (b) =>
    sql`
      INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, response_time_ms, hints, answered_at, client_attempt_id)
      SELECT u.s, u.usr, u.i, item.topic_id, u.c, u.rt, u.h, u.at, u.cid
      FROM unnest(${b.map((r) => r.session_id)}::text[], ${b.map((r) => r.user_id)}::text[],
        ${b.map((r) => r.item_id)}::text[], ${b.map((r) => r.correct)}::boolean[],
        ${b.map((r) => r.response_time_ms ?? null)}::integer[], ${b.map((r) => r.hints ?? 0)}::smallint[],
        ${b.map((r) => r.answered_at.toISOString())}::timestamptz[], ${b.map((r) => r.client_attempt_id ?? null)}::text[])
        WITH ORDINALITY AS u(s, usr, i, c, rt, h, at, cid, ord)
      JOIN item ON item.item_id = u.i
      ORDER BY u.ord
      ON CONFLICT (session_id, client_attempt_id) DO NOTHING`.execute(db),
  );
  return { inserted, duplicates: rows.length - inserted };
}

/** An attempt as its client sent it; null for an optional field it left out (not compared). */
export type SentAttempt = Omit<AttemptInput, 'answered_at' | 'user_id' | 'hints' | 'response_time_ms'> & {
  response_time_ms: number | null;
  hints: number | null;
  answered_at: Date | null;
};

/**
 * The client_attempt_ids of `rows` already stored for their session with other content: a re-used
 * id is a retry only when it carries the same answer (item, correctness, and what else it gives).
 */
export async function conflictingAttempts(db: Db, rows: readonly SentAttempt[]): Promise<string[]> {
  const b = rows.filter((r) => r.client_attempt_id != null);
  if (b.length === 0) return [];
  const res = await sql<{ cid: string }>`
    SELECT DISTINCT u.cid
    FROM unnest(${b.map((r) => r.session_id)}::text[], ${b.map((r) => r.client_attempt_id)}::text[],
      ${b.map((r) => r.item_id)}::text[], ${b.map((r) => r.correct)}::boolean[],
      ${b.map((r) => r.response_time_ms)}::integer[], ${b.map((r) => r.hints)}::smallint[],
      ${b.map((r) => r.answered_at?.toISOString() ?? null)}::timestamptz[]) AS u(s, cid, i, c, rt, h, at)
    JOIN attempt a ON a.session_id = u.s AND a.client_attempt_id = u.cid
    WHERE a.item_id <> u.i OR a.correct <> u.c OR (u.rt IS NOT NULL AND a.response_time_ms IS DISTINCT FROM u.rt)
      OR (u.h IS NOT NULL AND a.hints <> u.h) OR (u.at IS NOT NULL AND a.answered_at <> u.at)
    ORDER BY 1`.execute(db);
  return res.rows.map((r) => r.cid);
}

/** The ids among `itemIds` that are not in the item table. */
export async function unknownItems(db: Db, itemIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(itemIds)];
  if (unique.length === 0) return [];
  const res = await sql<{ item_id: string }>`
    SELECT u.item_id FROM unnest(${unique}::text[]) AS u(item_id)
    WHERE NOT EXISTS (SELECT 1 FROM item WHERE item.item_id = u.item_id) ORDER BY 1`.execute(db);
  return res.rows.map((r) => r.item_id);
}

export interface GoalInput {
  user_id: string;
  target_theta: number;
  target_date: string | null;
}

export async function upsertGoals(db: Db, rows: readonly GoalInput[]): Promise<number> {
  return inBatches(rows, (b) =>
    sql`
      INSERT INTO learner_goal (user_id, target_theta, target_date)
      SELECT * FROM unnest(${b.map((g) => g.user_id)}::text[], ${b.map((g) => g.target_theta)}::float8[],
        ${b.map((g) => g.target_date)}::date[])
      ON CONFLICT (user_id) DO UPDATE SET target_theta = EXCLUDED.target_theta, target_date = EXCLUDED.target_date,
        updated_at = now()`.execute(db),
  );
}

export interface SourceBatch {
  goals?: GoalInput[];
  topics: TopicInput[];
  items: ItemInput[];
  learners: LearnerInput[];
  sessions: SessionInput[];
  attempts: AttemptInput[];
}

export interface StoredSession {
  session_id: string;
  user_id: string;
  status: 'open' | 'completed' | 'abandoned';
  started_at: Date;
  completed_at: Date | null;
}

export class UnknownItemsError extends UserError {
  override name = 'UnknownItemsError';
  constructor(readonly itemIds: string[]) {
    super(
      `${itemIds.length} unknown item(s) without a topic to create them from: ${itemIds.slice(0, 20).join(', ')}` +
        (itemIds.length > 20 ? ', …' : ''),
    );
  }
}

/**
 * Writes a batch of source data in one transaction: new topics and items (existing ones are kept),
 * learners on first sight, sessions, attempts. Unknown items abort the whole batch, and so does
 * `checkStored` throwing when shown the batch's sessions already stored (locked until the end).
 */
export async function writeSourceBatch(
  db: Db,
  batch: SourceBatch,
  onConflict: OnConflict = 'keep',
  checkStored?: (stored: StoredSession[]) => void,
) {
  return db.transaction().execute(async (trx) => {
    if (checkStored) {
      const stored = await trx
        .selectFrom('exam_session')
        .select(['session_id', 'user_id', 'status', 'started_at', 'completed_at'])
        .where('session_id', '=', sql<string>`ANY(${batch.sessions.map((s) => s.session_id)}::text[])`)
        .forUpdate()
        .execute();
      checkStored(stored);
    }
    const topics = await upsertTopics(trx, batch.topics, onConflict);
    const items = await upsertItems(trx, batch.items, onConflict);
    const missing = await unknownItems(
      trx,
      batch.attempts.map((a) => a.item_id),
    );
    if (missing.length) throw new UnknownItemsError(missing);
    const learners = await upsertLearners(trx, batch.learners);
    const sessions = await upsertSessions(trx, batch.sessions);
    const attempts = await insertAttempts(trx, batch.attempts);
    const goals = await upsertGoals(trx, batch.goals ?? []);
    return { topics, items, learners, sessions, goals, ...attempts };
  });
}

/** Creates the learner if it is new (a session may be the first sight of a learner). */
export async function ensureLearner(db: Db, userId: string, orgId: string | null): Promise<void> {
  await db
    .insertInto('learner')
    .values({ user_id: userId, org_id: orgId })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
}

export type NewSession = Insertable<ExamSessionTable>;

/** Inserts a session unless its id exists; returns the new row, or undefined when the id was taken. */
export function insertSession(db: Db, session: NewSession) {
  return db
    .insertInto('exam_session')
    .values(session)
    .onConflict((oc) => oc.column('session_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** A session by id; `forUpdate` locks it for the rest of the caller's transaction. */
export function findSession(db: Db, sessionId: string, opts: { forUpdate?: boolean } = {}) {
  const q = db.selectFrom('exam_session').selectAll().where('session_id', '=', sessionId);
  return (opts.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

/** How many attempts a session has, and how many were correct. */
export async function sessionAttemptCounts(
  db: Db,
  sessionId: string,
): Promise<{ count: number; correct: number }> {
  const r = await db
    .selectFrom('attempt')
    .select((eb) => [
      eb.fn.countAll<string>().as('count'),
      eb.fn.count<string>('attempt_id').filterWhere('correct', '=', true).as('correct'),
    ])
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return { count: Number(r.count), correct: Number(r.correct) };
}

/** Marks an open session completed, now (or at its start, when that is within the clock-skew allowance ahead). */
export async function completeSession(db: Db, sessionId: string): Promise<void> {
  await db
    .updateTable('exam_session')
    .set({ status: 'completed', completed_at: sql<Date>`greatest(now(), started_at)` })
    .where('session_id', '=', sessionId)
    .execute();
}

export async function learnerExists(db: Db, userId: string): Promise<boolean> {
  const r = await db.selectFrom('learner').select('user_id').where('user_id', '=', userId).executeTakeFirst();
  return r !== undefined;
}
