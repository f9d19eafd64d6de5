// Reads of features_topic_daily (its one writer is the aggregate-features-daily job, job.ts).
import type { Db } from '../db/connection.js';

/** A learner's daily topic features from `from` to `to` (inclusive), by date then topic, with topic names. */
export function topicFeatures(db: Db, userId: string, from: string, to: string) {
  return db
    .selectFrom('features_topic_daily as f')
    .leftJoin('topic as t', 't.topic_id', 'f.topic_id')
    .selectAll('f')
    .select('t.name as topic_name')
    .where('f.user_id', '=', userId)
    .where('f.date', '>=', from)
    .where('f.date', '<=', to)
    .orderBy('f.date')
    .orderBy('f.topic_id')
    .execute();
}
