package io.gyre.eventstore;

import java.util.stream.Stream;

/** Reading one aggregate's events, to source its state. */
public interface ReadEventStream {

    /**
     * Reads an aggregate's events in sequence order. The stream is lazy and may fetch in batches, so that
     * long streams load in constant memory; close it (try-with-resources) when not read to the end.
     *
     * @param stream       the aggregate: its type and id
     * @param fromSequence the first sequence number wanted, 0 or more
     * @return the events with sequence numbers {@code >= fromSequence}; empty when there are none
     * @throws EventStoreException when the store cannot be read
     */
    Stream<StoredEvent> readStream(StreamId stream, long fromSequence);

    /**
     * Reads all of an aggregate's events.
     *
     * @param stream the aggregate: its type and id
     * @return its events in sequence order
     * @throws EventStoreException when the store cannot be read
     */
    default Stream<StoredEvent> readStream(StreamId stream) {
        return readStream(stream, 0);
    }

    /**
     * @param stream the aggregate: its type and id
     * @return the sequence number of its last event, or -1 when it has none
     * @throws EventStoreException when the store cannot be read
     */
    long lastSequence(StreamId stream);
}
