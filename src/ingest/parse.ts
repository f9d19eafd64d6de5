// Parsing of bulk imports into source rows, with every error naming its line. Pure: the caller
// reads the file and writes the rows (src/db/ingest.ts), so nothing is written unless all parses.
import type { AttemptInput, ItemInput, SessionInput, TopicInput } from '../db/ingest.js';

export class ImportError extends Error {
  override name = 'ImportError';
}

export interface ParsedImport {
  sessions: SessionInput[];
  attempts: AttemptInput[];
  /** Items named with a topic: created when unknown. Items without one must already exist. */
  items: ItemInput[];
  topics: TopicInput[];
  userIds: string[];
}

const ID = /^[^\p{Cc}]{1,128}$/u;

function id(value: unknown, what: string, where: string): string {
  const s = typeof value === 'number' ? String(value) : value;
  if (typeof s !== 'string' || !ID.test(s)) {
    throw new ImportError(
      `${where}: ${what} must be a non-empty id of at most 128 characters, got ${JSON.stringify(value)}`,
    );
  }
  return s;
}

function time(value: unknown, what: string, where: string): Date {
  const d = typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime()))
    throw new ImportError(`${where}: ${what} is not a valid time: ${JSON.stringify(value)}`);
  return d;
}

function bool(value: unknown, what: string, where: string): boolean {
  if (value === true || value === 1 || value === 'true' || value === '1') return true;
  if (value === false || value === 0 || value === 'false' || value === '0') return false;
  throw new ImportError(`${where}: ${what} must be true/false or 1/0, got ${JSON.stringify(value)}`);
}

function nonNegativeInt(value: unknown, what: string, where: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new ImportError(`${where}: ${what} must be a number >= 0, got ${JSON.stringify(value)}`);
  return Math.round(n);
}

function collect(
  items: Map<string, ItemInput>,
  topics: Map<string, TopicInput>,
  itemId: string,
  topic: unknown,
  where: string,
) {
  if (topic === undefined || topic === null || topic === '') return;
  const topicId = id(topic, 'topic', where);
  topics.set(topicId, { topic_id: topicId, name: topicId });
  items.set(itemId, { item_id: itemId, topic_id: topicId });
}

/**
 * The original platform's `exam_results` JSON lines: one session per line with
 * `questions[]: {question_id, is_correct|correct, time_spent_sec?, used_hints?, topic?}`.
 * Answers without their own time are spaced through the session in question order.
 */
export function parseExamResults(text: string, file: string): ParsedImport {
  const sessions: SessionInput[] = [];
  const attempts: AttemptInput[] = [];
  const items = new Map<string, ItemInput>();
  const topics = new Map<string, TopicInput>();
  const users = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = `${file}: line ${index + 1}`;
    if (raw.trim() === '') return;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(raw) as Record<string, unknown>;
    } catch (err) {
      throw new ImportError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new ImportError(`${where}: expected a JSON object`);
    const sessionId = id(doc.session_id ?? doc.id ?? doc._id, 'session_id', where);
    const userId = id(doc.user_id, 'user_id', where);
    const startedAt = time(doc.started_at ?? doc.created_at, 'started_at', where);
    const end = doc.completed_at ?? doc.submitted_at ?? doc.finished_at;
    const completedAt = end === undefined || end === null ? null : time(end, 'completed_at', where);
    const questions = doc.questions;
    if (!Array.isArray(questions)) throw new ImportError(`${where}: questions must be an array`);
    users.add(userId);
    sessions.push({
      session_id: sessionId,
      user_id: userId,
      exam_id: doc.exam_id === undefined || doc.exam_id === null ? null : id(doc.exam_id, 'exam_id', where),
      status: completedAt ? 'completed' : 'open',
      started_at: startedAt,
      completed_at: completedAt,
    });
    let clock = startedAt.getTime();
    questions.forEach((q: Record<string, unknown>, qi: number) => {
      const qwhere = `${where}: questions[${qi}]`;
      if (typeof q !== 'object' || q === null) throw new ImportError(`${qwhere}: expected an object`);
      const itemId = id(q.question_id ?? q.item_id, 'question_id', qwhere);
      const rawCorrect = q.is_correct ?? q.correct;
      if (rawCorrect === undefined || rawCorrect === null)
        throw new ImportError(`${qwhere}: missing is_correct (or correct)`);
      const seconds = q.time_spent_sec;
      const ms =
        seconds === undefined || seconds === null
          ? null
          : nonNegativeInt(Number(seconds) * 1000, 'time_spent_sec', qwhere);
      clock += ms ?? 0;
      const answeredAt =
        q.answered_at === undefined
          ? new Date(Math.max(clock, startedAt.getTime()))
          : time(q.answered_at, 'answered_at', qwhere);
      collect(items, topics, itemId, q.topic ?? q.topic_id, qwhere);
      attempts.push({
        session_id: sessionId,
        user_id: userId,
        item_id: itemId,
        correct: bool(rawCorrect, 'is_correct', qwhere),
        response_time_ms: ms,
        hints:
          q.used_hints === true
            ? 1
            : (nonNegativeInt(q.used_hints === false ? 0 : q.used_hints, 'used_hints', qwhere) ?? 0),
        answered_at: answeredAt,
        client_attempt_id: `q${qi}`,
      });
    });
  });
  return {
    sessions,
    attempts,
    items: [...items.values()],
    topics: [...topics.values()],
    userIds: [...users],
  };
}

/**
 * A CSV of attempts: `session_id,user_id,item_id,correct,answered_at` and optionally
 * `response_time_ms,hints,topic_id,client_attempt_id`. Sessions are created as completed, spanning
 * their attempts.
 */
export function parseAttemptsCsv(table: {
  rows: string[][];
  lines: number[];
  col: Record<string, number>;
  file: string;
}): ParsedImport {
  const { rows, lines, col, file } = table;
  const get = (row: string[], name: string) => (col[name] === undefined ? undefined : row[col[name]]);
  const attempts: AttemptInput[] = [];
  const items = new Map<string, ItemInput>();
  const topics = new Map<string, TopicInput>();
  const sessions = new Map<string, SessionInput>();
  rows.forEach((row, i) => {
    const where = `${file}: line ${lines[i]}`;
    const sessionId = id(get(row, 'session_id'), 'session_id', where);
    const userId = id(get(row, 'user_id'), 'user_id', where);
    const itemId = id(get(row, 'item_id'), 'item_id', where);
    const answeredAt = time(get(row, 'answered_at'), 'answered_at', where);
    collect(items, topics, itemId, get(row, 'topic_id'), where);
    const cid = get(row, 'client_attempt_id');
    attempts.push({
      session_id: sessionId,
      user_id: userId,
      item_id: itemId,
      correct: bool(get(row, 'correct'), 'correct', where),
      response_time_ms: nonNegativeInt(get(row, 'response_time_ms'), 'response_time_ms', where),
      hints: nonNegativeInt(get(row, 'hints'), 'hints', where) ?? 0,
      answered_at: answeredAt,
      // Without a client id, the item and time identify the answer, so a re-import adds nothing.
      client_attempt_id: cid ? id(cid, 'client_attempt_id', where) : `${itemId}@${answeredAt.toISOString()}`,
    });
    const s = sessions.get(sessionId);
    if (s && s.user_id !== userId)
      throw new ImportError(`${where}: session ${sessionId} belongs to ${s.user_id}, not ${userId}`);
    if (!s) {
      sessions.set(sessionId, {
        session_id: sessionId,
        user_id: userId,
        status: 'completed',
        started_at: answeredAt,
        completed_at: answeredAt,
      });
    } else {
      if (answeredAt < s.started_at) s.started_at = answeredAt;
      if (s.completed_at && answeredAt > s.completed_at) s.completed_at = answeredAt;
    }
  });
  const userIds = [...new Set(attempts.map((a) => a.user_id))];
  return {
    sessions: [...sessions.values()],
    attempts,
    items: [...items.values()],
    topics: [...topics.values()],
    userIds,
  };
}

export interface ParsedCohorts {
  cohorts: { cohort_id: string; name: string }[];
  members: { cohort_id: string; user_id: string }[];
}

/**
 * A CSV of cohort rosters: `cohort_id,cohort_name,user_id`, one member per row. A cohort must keep
 * one name throughout the file; a repeated member is taken once.
 */
export function parseCohortsCsv(table: {
  rows: string[][];
  lines: number[];
  col: Record<string, number>;
  file: string;
}): ParsedCohorts {
  const { rows, lines, col, file } = table;
  if (rows.length === 0) throw new ImportError(`${file}: the file has no rows`);
  const cohorts = new Map<string, { cohort_id: string; name: string; line: number }>();
  const members = new Map<string, { cohort_id: string; user_id: string }>();
  rows.forEach((row, i) => {
    const where = `${file}: line ${lines[i]}`;
    const cohortId = id(row[col.cohort_id!], 'cohort_id', where);
    const name = (row[col.cohort_name!] ?? '').trim();
    if (name === '' || name.length > 200)
      throw new ImportError(`${where}: cohort_name must be 1 to 200 characters`);
    const userId = id(row[col.user_id!], 'user_id', where);
    const known = cohorts.get(cohortId);
    if (known && known.name !== name) {
      throw new ImportError(
        `${where}: cohort ${cohortId} is named '${name}' here but '${known.name}' on line ${known.line}`,
      );
    }
    if (!known) cohorts.set(cohortId, { cohort_id: cohortId, name, line: lines[i]! });
    members.set(`${cohortId}\u0000${userId}`, { cohort_id: cohortId, user_id: userId });
  });
  return {
    cohorts: [...cohorts.values()].map(({ cohort_id, name }) => ({ cohort_id, name })),
    members: [...members.values()],
  };
}
