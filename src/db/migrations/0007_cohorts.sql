-- Cohorts (classes) for the dashboard (issue 19; docs/dashboard.md): a teacher's token names her
-- cohorts, and she sees their members only. A learner may belong to several cohorts.
CREATE TABLE cohort (
  cohort_id  text PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cohort_member (
  cohort_id text NOT NULL REFERENCES cohort (cohort_id) ON DELETE CASCADE,
  user_id   text NOT NULL REFERENCES learner (user_id) ON DELETE CASCADE,
  PRIMARY KEY (cohort_id, user_id)
);
-- The teacher's access check and a learner's cohorts go from the learner to her cohorts.
CREATE INDEX cohort_member_user_idx ON cohort_member (user_id);
