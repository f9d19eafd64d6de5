-- Sympson–Hetter exposure parameters per calibration run (issue 18; docs/cat.md → The API): each
-- item's P(administer | selected), produced by `seedtest cat simulate --calibrate-sh R` on the run's
-- bank and imported with PUT /api/seedtest/cat/sympson-hetter/{run_id} (which replaces the run's
-- set). Adaptive sessions with exposure "sympson-hetter" use the set of the latest run that has one.
CREATE TABLE cat_sh_param (
  run_id      text NOT NULL REFERENCES mirt_fit_meta (run_id) ON DELETE CASCADE,
  item_id     text NOT NULL REFERENCES item (item_id),
  sh_k        double precision NOT NULL CHECK (sh_k >= 0 AND sh_k <= 1),
  imported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, item_id)
);
-- The next-item snapshot's bank stamp reads the latest import (an index lookup per request).
CREATE INDEX cat_sh_param_imported_idx ON cat_sh_param (imported_at);
