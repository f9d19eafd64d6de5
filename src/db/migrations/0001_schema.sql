-- The complete data model of spec/data-model.md. PostgreSQL 15 compatible (also runs on PGlite).

-- Source data ------------------------------------------------------------------------------------

CREATE TABLE learner (
  user_id      text PRIMARY KEY,
  org_id       text NULL,
  display_name text NULL,
  locale       text NOT NULL DEFAULT 'ko' CHECK (locale IN ('ko', 'en')),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topic (
  topic_id text PRIMARY KEY,
  name     text NOT NULL,
  subject  text NULL
);

CREATE TABLE item (
  item_id    text PRIMARY KEY,
  topic_id   text NOT NULL REFERENCES topic (topic_id),
  tags       text[] NOT NULL DEFAULT '{}',
  meta       jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX item_topic_idx ON item (topic_id);

CREATE TABLE exam_session (
  session_id   text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES learner (user_id),
  exam_id      text NULL,
  status       text NOT NULL CHECK (status IN ('open', 'completed', 'abandoned')),
  started_at   timestamptz NOT NULL,
  completed_at timestamptz NULL,
  CHECK (completed_at IS NULL OR completed_at >= started_at)
);
CREATE INDEX exam_session_user_started_idx ON exam_session (user_id, started_at);

CREATE TABLE attempt (
  attempt_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id        text NOT NULL REFERENCES exam_session (session_id),
  user_id           text NOT NULL REFERENCES learner (user_id),
  item_id           text NOT NULL REFERENCES item (item_id),
  topic_id          text NOT NULL,
  correct           boolean NOT NULL,
  response_time_ms  integer NULL CHECK (response_time_ms >= 0),
  hints             smallint NOT NULL DEFAULT 0 CHECK (hints >= 0),
  answered_at       timestamptz NOT NULL,
  client_attempt_id text NULL,
  UNIQUE (session_id, client_attempt_id)
);
CREATE INDEX attempt_user_answered_idx ON attempt (user_id, answered_at);
CREATE INDEX attempt_answered_idx ON attempt (answered_at);
CREATE INDEX attempt_item_answered_idx ON attempt (item_id, answered_at);
CREATE INDEX attempt_session_idx ON attempt (session_id);

-- Derived data -----------------------------------------------------------------------------------

CREATE TABLE features_topic_daily (
  user_id        text NOT NULL,
  topic_id       text NOT NULL,
  date           date NOT NULL,
  attempts       integer NOT NULL,
  correct        integer NOT NULL,
  avg_time_ms    integer NULL,
  rt_median      integer NULL,
  hints          integer NOT NULL,
  theta_estimate double precision NULL,
  theta_se       double precision NULL,
  improvement    double precision NULL,
  last_seen_at   timestamptz NOT NULL,
  computed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, topic_id, date)
);
CREATE INDEX features_topic_daily_topic_date_idx ON features_topic_daily (topic_id, date);
CREATE INDEX features_topic_daily_user_date_idx ON features_topic_daily (user_id, date);

CREATE TABLE weekly_kpi (
  user_id    text NOT NULL,
  week_start date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
  kpis       jsonb NOT NULL,
  as_of      date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, week_start)
);
CREATE INDEX weekly_kpi_week_idx ON weekly_kpi (week_start);

CREATE TABLE mirt_fit_meta (
  run_id     text PRIMARY KEY,
  model      text NOT NULL CHECK (model IN ('Rasch', '2PL', '3PL')),
  status     text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  model_spec jsonb NOT NULL DEFAULT '{}',
  metrics    jsonb NOT NULL DEFAULT '{}',
  fitted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mirt_fit_meta_fitted_idx ON mirt_fit_meta (fitted_at DESC);

CREATE TABLE mirt_item_params (
  item_id   text NOT NULL,
  version   text NOT NULL REFERENCES mirt_fit_meta (run_id),
  model     text NOT NULL,
  params    jsonb NOT NULL,
  fitted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (item_id, version)
);
CREATE INDEX mirt_item_params_item_fitted_idx ON mirt_item_params (item_id, fitted_at DESC);

-- The current parameters of an item: those of the latest succeeded run that includes it.
CREATE VIEW mirt_item_params_current AS
SELECT DISTINCT ON (p.item_id) p.item_id, p.version, p.model, p.params, p.fitted_at
FROM mirt_item_params p
JOIN mirt_fit_meta m ON m.run_id = p.version AND m.status = 'succeeded'
ORDER BY p.item_id, p.fitted_at DESC, p.version DESC;

CREATE TABLE mirt_ability (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     text NOT NULL,
  theta       double precision NOT NULL,
  se          double precision NULL,
  model       text NULL,
  version     text NULL,
  source      text NOT NULL CHECK (source IN ('calibration', 'online')),
  session_id  text NULL,
  n_responses integer NULL,
  fitted_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mirt_ability_user_fitted_idx ON mirt_ability (user_id, fitted_at DESC);
CREATE INDEX mirt_ability_fitted_idx ON mirt_ability (fitted_at);

CREATE TABLE learner_goal (
  user_id      text PRIMARY KEY,
  target_theta double precision NOT NULL,
  target_date  date NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE report_artifacts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      text NOT NULL,
  week_start   date NOT NULL,
  format       text NOT NULL CHECK (format IN ('html', 'pdf')),
  url          text NOT NULL,
  storage_key  text NOT NULL,
  bytes        integer NULL,
  sha256       text NULL,
  generated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, week_start, format)
);
CREATE INDEX report_artifacts_generated_idx ON report_artifacts (generated_at);

CREATE TABLE inactivity_alert (
  user_id        text NOT NULL,
  last_active_at timestamptz NOT NULL,
  detected_on    date NOT NULL,
  days_inactive  integer NOT NULL,
  churn_risk     double precision NULL,
  resolved_at    timestamptz NULL,
  PRIMARY KEY (user_id, last_active_at)
);
CREATE INDEX inactivity_alert_open_idx ON inactivity_alert (user_id) WHERE resolved_at IS NULL;

CREATE TABLE job_run (
  run_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job         text NOT NULL,
  params      jsonb NOT NULL DEFAULT '{}',
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz NULL,
  stats       jsonb NOT NULL DEFAULT '{}',
  error       text NULL
);
CREATE INDEX job_run_job_started_idx ON job_run (job, started_at DESC);
