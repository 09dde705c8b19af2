package io.gyre.snapshot;

import io.gyre.eventstore.ReadEventStream;
import io.gyre.eventstore.StreamId;
import java.util.Optional;

/**
 * A role a {@link SnapshotStore} may take on when it lives next to the events: reading an aggregate's latest
 * snapshot and the events a load needs with it in one go, one round trip to the database where a node would
 * otherwise make two (the snapshot, then the events after it) on every load of an aggregate it does not hold.
 * A node uses it whenever its snapshot store has it; {@code JdbcSnapshotStore} has it for its own event store.
 */
public interface ReadSnapshotWithEvents {

    /**
     * Reads the latest snapshot of a stream and the stream's events from the snapshot's own sequence number on (so
     * that the loader can check that event is still the one the snapshot was taken after), or from 0 when there is
     * no snapshot. Both as one read sees them would be best; a writer appending between the two is harmless, as it
     * is for two separate reads: the loader checks the snapshot's event and the stream's contiguity, and the append
     * that follows a load checks the head.
     *
     * @param stream the aggregate
     * @param events the event store the node reads the stream from
     * @return empty when this store cannot read that event store's events together with its snapshots (it is not
     *         the one this store lives next to): the node then reads them one after the other
     * @throws io.gyre.eventstore.EventStoreException when the database cannot be read
     */
    Optional<SnapshotWithEvents> latestWithEvents(StreamId stream, ReadEventStream events);
}
