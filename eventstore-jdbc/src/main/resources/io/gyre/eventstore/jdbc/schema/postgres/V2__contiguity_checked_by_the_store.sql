-- Gyre event store schema, version 2, PostgreSQL 14+.
-- The store keeps streams contiguous itself, checking an append's expected last event before the insert and
-- only when it has not seen that event (see JdbcEventStore). Early builds of version 1 did it in a trigger on
-- every command's first event, which cost about a fifth of single-thread append throughput; it goes.

DROP TRIGGER IF EXISTS ${events_name}_predecessor ON ${events};

DROP FUNCTION IF EXISTS ${events_name}_predecessor();
