// `--shard i/n`: a batch job over learners takes the learners whose id hashes to i modulo n, so an
// Indexed Job (JOB_COMPLETION_INDEX = i, 0-based) can split the work across pods.
import { type RawBuilder, sql } from 'kysely';
import { InvalidInputError } from '../user-error.js';

export interface Shard {
  /** 0-based, like a Kubernetes Indexed Job's completion index. */
  index: number;
  count: number;
}

export const WHOLE: Shard = Object.freeze({ index: 0, count: 1 });

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || count > 1024 || index >= count) {
    throw new InvalidInputError(`shard must be i/n with 0 <= i < n <= 1024 (e.g. 0/4), got "${text}"`);
  }
  return { index, count };
}

export function shardLabel(shard: Shard): string {
  return shard.count === 1 ? 'all' : `${shard.index}/${shard.count}`;
}

/** SQL that is true for the learners of this shard (always true for the whole population). */
export function inShard(userIdColumn: RawBuilder<unknown>, shard: Shard): RawBuilder<boolean> {
  if (shard.count === 1) return sql<boolean>`true`;
  return sql<boolean>`mod(abs(hashtext(${userIdColumn})::bigint), ${shard.count}) = ${shard.index}`;
}
