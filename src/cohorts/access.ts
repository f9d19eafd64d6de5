// Who may see which cohort and which learner on the dashboard (docs/dashboard.md): analysts and
// admins see everything, a teacher (`cohort:view`) the cohorts of her token's `cohorts` claim and
// their members, a learner her own page.

import { hasScope, type Principal } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { Db } from '../db/connection.js';
import { inAnyCohort } from './repository.js';

/** The cohorts the principal may see: all of them, or those listed. */
export function visibleCohorts(principal: Principal): 'all' | readonly string[] {
  if (hasScope(principal, 'analysis:run')) return 'all';
  return principal.scopes.has('cohort:view') ? principal.cohorts : [];
}

export function assertCohortAccess(principal: Principal, cohortId: string): void {
  const visible = visibleCohorts(principal);
  if (visible === 'all' || visible.includes(cohortId)) return;
  throw new ApiError('COHORT_FORBIDDEN', `this token may not see cohort ${cohortId}`);
}

export async function assertLearnerAccess(db: Db, principal: Principal, userId: string): Promise<void> {
  if (principal.sub === userId) return;
  const visible = visibleCohorts(principal);
  if (visible === 'all' || (await inAnyCohort(db, userId, visible))) return;
  throw new ApiError('NOT_YOUR_DATA', `this token may not access data of user ${userId}`);
}
