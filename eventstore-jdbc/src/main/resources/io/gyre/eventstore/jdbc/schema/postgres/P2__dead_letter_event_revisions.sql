-- Gyre processing store schema, version 2.
-- ${dead_letters} is the configured dead-letter table.
--
-- A dead letter keeps its event as the events table holds it, and since event store version 5 that includes the
-- revision of the event's class, without which a retried letter would be upcast from the wrong revision. Letters
-- kept before this version hold events of revision 0, the only one there was.

ALTER TABLE ${dead_letters} ADD COLUMN IF NOT EXISTS event_revision INTEGER NOT NULL DEFAULT 0;
