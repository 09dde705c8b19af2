-- Gyre event store schema, version 6, PostgreSQL 14+.
-- ${events} is the configured events table and ${events_name} its name without the schema, used to name its indexes.
--
-- The global log is ordered by (log_epoch, transaction_id, global_position). Transaction ids order it only while they
-- come from one server: after a pg_dump/restore or an upgrade by logical replication the stored ids can be above the
-- new server's, and readers would silently get nothing. The repair (GlobalLogRepair.startNewEpoch) raises the
-- column's default, so every event appended afterwards sorts after every restored one, whatever the ids. Events
-- stored before this version are of epoch 0, and so are tokens stored before it.
--
-- Adding a column with a constant default rewrites no row on PostgreSQL 11 and later.

ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS log_epoch SMALLINT NOT NULL DEFAULT 0;

-- The index the global log is read by, forwards by readers and backwards by the restore check. Building it takes a
-- lock that makes appends wait until it is built (reads go on). On a big table, build it beforehand without blocking
-- appends, under this name, and this statement keeps it:
--   CREATE INDEX CONCURRENTLY <events>_log_epoch_order ON <events> (log_epoch, transaction_id, global_position);
-- (if that fails, it leaves an invalid index: DROP INDEX it and build it again).
CREATE INDEX IF NOT EXISTS ${events_name}_log_epoch_order ON ${events} (log_epoch, transaction_id, global_position);

-- The index of version 1, (transaction_id, global_position), orders no read any more: every append would keep it up.
DROP INDEX IF EXISTS ${events_name}_log_order;
