-- Gyre event store schema, version 4, H2 2.x.
-- ${commands} is the configured commands table.
--
-- A command id names one command, but a caller that picks its own ids (an idempotency key) may reuse one for a
-- different command. Each decision now keeps a fingerprint of the command it was made for, a digest of the
-- serialized command given by the caller, so that a later delivery under the same id is answered with the stored
-- decision only if it is the same command, and refused if it is another. NULL: the fingerprint was not given
-- (decisions stored before this version, or a caller that does not compute one); it is never compared.

ALTER TABLE ${commands} ADD COLUMN IF NOT EXISTS fingerprint CHARACTER VARYING;
