-- Attempts are the bulk of every write. Two structures cost on each insert and buy nothing the spec
-- asks for (spec/data-model.md): the foreign key on attempt.user_id (the session's own foreign key
-- already ties an attempt to an existing learner, and ingestion checks the session's owner) and
-- the index on session_id alone (UNIQUE (session_id, client_attempt_id) serves those lookups).
ALTER TABLE attempt DROP CONSTRAINT attempt_user_id_fkey;
DROP INDEX attempt_session_idx;
