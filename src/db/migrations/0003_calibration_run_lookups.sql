-- mirt-calibrate replaces its own run's rows before writing them (a re-run of a day), and both
-- lookups by run had no index, so each read its whole table on every run:
-- - mirt_ability (`version = run id AND source = 'calibration'`) grows by an online row per completed
--   session (0.7 s at 8.8 M rows, growing). Partial, so the θ update path's inserts skip it.
-- - mirt_item_params (`version = run id`) is also what the foreign key from mirt_item_params.version
--   looks up when a mirt_fit_meta row is deleted.
CREATE INDEX mirt_ability_calibration_version_idx ON mirt_ability (version) WHERE source = 'calibration';
CREATE INDEX mirt_item_params_version_idx ON mirt_item_params (version);
