-- Weekly reports in two editions (learner, teacher), in the learner's time zone, with topic names per
-- locale (issue 20).

-- NULL = REPORT_TIMEZONE (default Asia/Seoul). An IANA name, e.g. 'Asia/Seoul', 'America/New_York'.
ALTER TABLE learner ADD COLUMN time_zone text NULL;

-- The topic's name in each report language; NULL = the report shows `name` and says so.
ALTER TABLE topic ADD COLUMN name_ko text NULL;
ALTER TABLE topic ADD COLUMN name_en text NULL;

-- One row per edition and format. Rows written before are the learner's edition (the only one then).
ALTER TABLE report_artifacts
  ADD COLUMN edition text NOT NULL DEFAULT 'learner' CHECK (edition IN ('learner', 'teacher'));
ALTER TABLE report_artifacts DROP CONSTRAINT report_artifacts_user_id_week_start_format_key;
ALTER TABLE report_artifacts ADD CONSTRAINT report_artifacts_user_week_edition_format_key
  UNIQUE (user_id, week_start, edition, format);
