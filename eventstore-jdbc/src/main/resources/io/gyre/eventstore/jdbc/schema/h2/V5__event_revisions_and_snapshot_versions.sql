-- Gyre event store schema, version 5, H2 2.x.
-- ${events} and ${snapshots} are the configured table names.
--
-- Every event is stored with the revision of its class (@Revision, 0 without it), so that a later version of the
-- class can upcast it. Events stored before this version were written by classes without revisions: 0. A column of
-- its own rather than a metadata entry, because it is read for every event and metadata is the application's.

ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS event_revision INTEGER NOT NULL DEFAULT 0;

-- A snapshot is used only by the version of the aggregate class that wrote it (its class name, @Revision and a
-- digest of its fields), and only if the stored event it was taken after is still there with the same id. No
-- version of Gyre before this one wrote snapshots, and a snapshot is only a cache of what the events say, so any
-- row there is dropped rather than given a version it may not have.

DELETE FROM ${snapshots};

ALTER TABLE ${snapshots} ADD COLUMN IF NOT EXISTS last_event_id CHARACTER VARYING NOT NULL;

ALTER TABLE ${snapshots} ADD COLUMN IF NOT EXISTS snapshot_revision INTEGER NOT NULL;

ALTER TABLE ${snapshots} ADD COLUMN IF NOT EXISTS shape_hash CHARACTER VARYING NOT NULL;
