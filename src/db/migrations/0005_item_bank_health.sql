-- Item-bank health per calibration run (issue 17; docs/irt.md → Fit, reliability, information,
-- drift): per run × item fit and drift against the previous run, per run model fit and reliability,
-- and the anchors screened out before linking. Rows go with their run (ON DELETE CASCADE), so a
-- re-run of a day replaces them with the run.
CREATE TABLE mirt_item_fit (
  run_id       text NOT NULL REFERENCES mirt_fit_meta (run_id) ON DELETE CASCADE,
  item_id      text NOT NULL,
  infit        double precision NOT NULL,
  outfit       double precision NOT NULL,
  infit_z      double precision NOT NULL,
  outfit_z     double precision NOT NULL,
  -- S-X²: null on sparse data or without degrees of freedom (mirt_model_fit.notes says which).
  sx2          double precision NULL,
  sx2_df       integer NULL,
  sx2_p        double precision NULL,
  sx2_rmsea    double precision NULL,
  -- Drift against previous_run on the linked scale: null when the run was not linked to it.
  previous_run text NULL,
  da           double precision NULL,
  db           double precision NULL,
  dc           double precision NULL,
  lord_chi2    double precision NULL,
  drift_df     integer NULL,
  drift_p      double precision NULL,
  q_flag       boolean NULL,
  area         double precision NULL,
  drift_flag   boolean NULL,
  PRIMARY KEY (run_id, item_id)
);
CREATE INDEX mirt_item_fit_item_idx ON mirt_item_fit (item_id);

CREATE TABLE mirt_model_fit (
  run_id        text PRIMARY KEY REFERENCES mirt_fit_meta (run_id) ON DELETE CASCADE,
  m2            double precision NULL,
  m2_df         integer NULL,
  m2_p          double precision NULL,
  rmsea         double precision NULL,
  rmsea_5       double precision NULL,
  rmsea_95      double precision NULL,
  srmsr         double precision NULL,
  tli           double precision NULL,
  cfi           double precision NULL,
  marginal_rxx  double precision NOT NULL,
  empirical_rxx double precision NOT NULL,
  -- Why a statistic is null.
  notes         jsonb NOT NULL DEFAULT '[]'
);

-- Anchors dropped by robust screening (|z| of their Δb above the threshold), also for a run that was
-- refused for having too few anchors left.
CREATE TABLE mirt_dropped_anchor (
  run_id  text NOT NULL REFERENCES mirt_fit_meta (run_id) ON DELETE CASCADE,
  item_id text NOT NULL,
  db      double precision NOT NULL,
  z       double precision NOT NULL,
  round   integer NOT NULL,
  PRIMARY KEY (run_id, item_id)
);
