// Parsing of bulk imports into source rows, with every error naming its line. Pure: the caller
// reads the file and writes the rows (src/ingestion/repository.ts), so nothing is written unless all parses.

import { UserError } from '../user-error.js';
import { MAX_HINTS, MAX_RESPONSE_TIME_MS } from './limits.js';
import type { AttemptInput, ItemInput, SessionInput, StoredSession, TopicInput } from './repository.js';
import { checkTimeBounds, parseInstant, type TimeBounds, TimeInputError } from './time.js';

export class ImportError extends UserError {
  override name = 'ImportError';
}

export interface ParsedImport {
  sessions: SessionInput[];
  attempts: AttemptInput[];
  /** Items named with a topic: created when unknown. Items without one must already exist. */
  items: ItemInput[];
  topics: TopicInput[];
  userIds: string[];
  /** Where each session comes from, for errors found against the stored sessions. */
  origins: Map<string, SessionOrigin>;
}

interface SessionOrigin {
  /** `file: line N` of the session's (first) line. */
  where: string;
  /** `file: line N: field` of the value that sets completed_at. */
  completedAt: string;
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

/** The time rule of src/ingestion/time.ts; a number is epoch milliseconds (unambiguous, zone-free). */
function time(value: unknown, what: string, where: string, bounds: TimeBounds): Date {
  try {
    if (typeof value === 'string') return parseInstant(value, bounds);
    if (typeof value === 'number') return checkTimeBounds(new Date(value), bounds);
  } catch (err) {
    if (!(err instanceof TimeInputError)) throw err;
    throw new ImportError(`${where}: ${what} ${err.message}, got ${JSON.stringify(value)}`);
  }
  throw new ImportError(`${where}: ${what} is not a valid time: ${JSON.stringify(value)}`);
}

/** A computed instant (a start plus durations) under the same rule, blamed on `what`. */
function within(t: Date, what: string, where: string, bounds: TimeBounds): Date {
  try {
    return checkTimeBounds(t, bounds);
  } catch (err) {
    if (!(err instanceof TimeInputError)) throw err;
    throw new ImportError(`${where}: ${what} puts the answer at ${t.toISOString()}, which ${err.message}`);
  }
}

function bool(value: unknown, what: string, where: string): boolean {
  if (value === true || value === 1 || value === 'true' || value === '1') return true;
  if (value === false || value === 0 || value === 'false' || value === '0') return false;
  throw new ImportError(`${where}: ${what} must be true/false or 1/0, got ${JSON.stringify(value)}`);
}

/** A count in 0..max (`scale` converts the given unit to the stored one), null when absent. */
function nonNegativeInt(value: unknown, what: string, where: string, max: number, scale = 1): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = Math.round(Number(value) * scale);
  if (!Number.isFinite(n) || n < 0 || n > max) {
    throw new ImportError(
      `${where}: ${what} must be a number from 0 to ${max / scale}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
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
export function parseExamResults(text: string, file: string, bounds: TimeBounds): ParsedImport {
  const sessions: SessionInput[] = [];
  const origins = new Map<string, SessionOrigin>();
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
    const seen = origins.get(sessionId);
    if (seen) throw new ImportError(`${where}: session_id ${sessionId} is already on ${seen.where}`);
    origins.set(sessionId, { where, completedAt: `${where}: completed_at` });
    const userId = id(doc.user_id, 'user_id', where);
    const startedAt = time(doc.started_at ?? doc.created_at, 'started_at', where, bounds);
    const end = doc.completed_at ?? doc.submitted_at ?? doc.finished_at;
    const completedAt = end === undefined || end === null ? null : time(end, 'completed_at', where, bounds);
    if (completedAt && completedAt < startedAt) {
      throw new ImportError(
        `${where}: completed_at ${completedAt.toISOString()} is before started_at ${startedAt.toISOString()}`,
      );
    }
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
          : nonNegativeInt(seconds, 'time_spent_sec', qwhere, MAX_RESPONSE_TIME_MS, 1000);
      clock += ms ?? 0;
      const answeredAt =
        q.answered_at === undefined
          ? within(new Date(Math.max(clock, startedAt.getTime())), 'time_spent_sec', qwhere, bounds)
          : time(q.answered_at, 'answered_at', qwhere, bounds);
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
            : (nonNegativeInt(q.used_hints === false ? 0 : q.used_hints, 'used_hints', qwhere, MAX_HINTS) ??
              0),
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
    origins,
  };
}

/**
 * A CSV of attempts: `session_id,user_id,item_id,correct,answered_at` and optionally
 * `response_time_ms,hints,topic_id,client_attempt_id`. Sessions are created as completed, spanning
 * their attempts.
 */
export function parseAttemptsCsv(
  table: { rows: string[][]; lines: number[]; col: Record<string, number>; file: string },
  bounds: TimeBounds,
): ParsedImport {
  const { rows, lines, col, file } = table;
  const get = (row: string[], name: string) => (col[name] === undefined ? undefined : row[col[name]]);
  const attempts: AttemptInput[] = [];
  const items = new Map<string, ItemInput>();
  const topics = new Map<string, TopicInput>();
  const sessions = new Map<string, SessionInput>();
  const origins = new Map<string, SessionOrigin>();
  rows.forEach((row, i) => {
    const where = `${file}: line ${lines[i]}`;
    const sessionId = id(get(row, 'session_id'), 'session_id', where);
    const userId = id(get(row, 'user_id'), 'user_id', where);
    const itemId = id(get(row, 'item_id'), 'item_id', where);
    const answeredAt = time(get(row, 'answered_at'), 'answered_at', where, bounds);
    collect(items, topics, itemId, get(row, 'topic_id'), where);
    const cid = get(row, 'client_attempt_id');
    attempts.push({
      session_id: sessionId,
      user_id: userId,
      item_id: itemId,
      correct: bool(get(row, 'correct'), 'correct', where),
      response_time_ms: nonNegativeInt(
        get(row, 'response_time_ms'),
        'response_time_ms',
        where,
        MAX_RESPONSE_TIME_MS,
      ),
      hints: nonNegativeInt(get(row, 'hints'), 'hints', where, MAX_HINTS) ?? 0,
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
      origins.set(sessionId, { where, completedAt: `${where}: answered_at` });
    } else {
      if (answeredAt < s.started_at) s.started_at = answeredAt;
      if (s.completed_at && answeredAt > s.completed_at) {
        s.completed_at = answeredAt;
        origins.get(sessionId)!.completedAt = `${where}: answered_at`;
      }
    }
  });
  const userIds = [...new Set(attempts.map((a) => a.user_id))];
  return {
    sessions: [...sessions.values()],
    attempts,
    items: [...items.values()],
    topics: [...topics.values()],
    userIds,
    origins,
  };
}

/**
 * Refuses the file when a session of it is stored for another learner, or would be completed
 * before its stored start (a stored open session takes the file's completion; see upsertSessions).
 */
export function checkStoredSessions(parsed: ParsedImport, stored: readonly StoredSession[]): void {
  const byId = new Map(stored.map((s) => [s.session_id, s]));
  for (const s of parsed.sessions) {
    const old = byId.get(s.session_id);
    const origin = parsed.origins.get(s.session_id);
    if (!old || !origin) continue;
    if (old.user_id !== s.user_id) {
      throw new ImportError(
        `${origin.where}: session_id ${s.session_id} is a session of another learner, not of ${s.user_id}`,
      );
    }
    if (old.status === 'open' && s.completed_at && s.completed_at < old.started_at) {
      throw new ImportError(
        `${origin.completedAt} ${s.completed_at.toISOString()} is before the stored session's started_at ` +
          old.started_at.toISOString(),
      );
    }
  }
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
