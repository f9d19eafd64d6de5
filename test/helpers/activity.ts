// Hand-built learner activity for the KPI and inactivity tests: sessions with their attempts, θ
// estimates and goals, written through the same set-based ingestion path as imports.
import type { Db } from '../../src/db/connection.js';
import { writeSourceBatch } from '../../src/ingestion/repository.js';

/** [item, correct, response time ms (null = unknown), hints, answered_at] */
export type A = [item: string, correct: boolean, rt: number | null, hints: number, at: string];

export interface S {
  id: string;
  user: string;
  start: string;
  /** completed_at of a completed session; absent = open */
  completed?: string;
  attempts: A[];
}

export const ITEMS = ['i1', 'i2', 'i3'];

export async function writeActivity(db: Db, sessions: S[], goals: Record<string, number> = {}) {
  const users = [...new Set(sessions.map((s) => s.user))];
  await writeSourceBatch(db, {
    topics: [{ topic_id: 'alg', name: 'Algebra' }],
    items: ITEMS.map((item_id) => ({ item_id, topic_id: 'alg' })),
    learners: users.map((user_id) => ({ user_id })),
    sessions: sessions.map((s) => ({
      session_id: s.id,
      user_id: s.user,
      status: s.completed ? 'completed' : 'open',
      started_at: new Date(s.start),
      completed_at: s.completed ? new Date(s.completed) : null,
    })),
    attempts: sessions.flatMap((s) =>
      s.attempts.map(([item_id, correct, rt, hints, at], i) => ({
        session_id: s.id,
        user_id: s.user,
        item_id,
        correct,
        response_time_ms: rt,
        hints,
        answered_at: new Date(at),
        client_attempt_id: `${s.id}-${i}`,
      })),
    ),
    goals: Object.entries(goals).map(([user_id, target_theta]) => ({
      user_id,
      target_theta,
      target_date: null,
    })),
  });
}

/** Appends θ estimates: [user, theta, se, fitted_at]. */
export async function writeAbilities(db: Db, rows: [string, number, number | null, string][]) {
  await db
    .insertInto('mirt_ability')
    .values(
      rows.map(([user_id, theta, se, fitted_at]) => ({
        user_id,
        theta,
        se,
        source: 'calibration',
        fitted_at,
      })),
    )
    .execute();
}
