-- Adaptive sessions (issue 18; docs/cat.md → The API). The state of an adaptive session is its
-- attempts plus the items the engine served, so any API replica computes the next step from here.

-- A session is 'fixed' (the client picks the items) or 'adaptive' (GET …/next-item picks them, with
-- these settings: max_items, min_items, se_target, topics, exposure, kl_items, exclude_days).
ALTER TABLE exam_session
  ADD COLUMN mode text NOT NULL DEFAULT 'fixed' CHECK (mode IN ('fixed', 'adaptive')),
  ADD COLUMN settings jsonb NULL,
  ADD CONSTRAINT exam_session_adaptive_settings CHECK ((mode = 'adaptive') = (settings IS NOT NULL));

-- Inactive items are never served (they keep their history and parameters).
ALTER TABLE item ADD COLUMN active boolean NOT NULL DEFAULT true;
CREATE INDEX item_inactive_idx ON item (item_id) WHERE NOT active;

-- One row per item served: the (session, position) key makes serving idempotent across replicas
-- (two GETs racing for the same position insert one row and both answer it). θ and SE are those the
-- item was chosen at; run_id the calibration run whose bank chose it.
CREATE TABLE cat_served_item (
  session_id text NOT NULL REFERENCES exam_session (session_id),
  position   integer NOT NULL CHECK (position >= 1),
  item_id    text NOT NULL REFERENCES item (item_id),
  topic_id   text NOT NULL,
  run_id     text NOT NULL,
  theta      double precision NOT NULL,
  se         double precision NOT NULL,
  served_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, position),
  UNIQUE (session_id, item_id)
);
-- The last week's exposure (the over-exposure check) reads by time.
CREATE INDEX cat_served_item_served_idx ON cat_served_item (served_at);

-- Exposure per calibration run, for the dashboard: sessions that started on the run's bank, and
-- per item the times it was served from it (rate = served / sessions). Counted when served.
CREATE TABLE cat_exposure_run (
  run_id   text PRIMARY KEY REFERENCES mirt_fit_meta (run_id) ON DELETE CASCADE,
  sessions integer NOT NULL
);
CREATE TABLE cat_exposure (
  run_id  text NOT NULL REFERENCES mirt_fit_meta (run_id) ON DELETE CASCADE,
  item_id text NOT NULL,
  served  integer NOT NULL,
  PRIMARY KEY (run_id, item_id)
);
