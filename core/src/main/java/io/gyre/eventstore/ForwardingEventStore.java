package io.gyre.eventstore;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * An event store that passes every call to another one; extend it to decorate a store (metrics, logging, fault
 * injection in tests) by overriding only the calls of interest.
 */
public abstract class ForwardingEventStore implements EventStore {

    private final EventStore delegate;

    /**
     * @param delegate the store that does the work
     */
    protected ForwardingEventStore(EventStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** @return the store that does the work */
    protected EventStore delegate() {
        return delegate;
    }

    @Override
    public AppendResult append(AppendRequest request) {
        return delegate.append(request);
    }

    @Override
    public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
        return delegate.readStream(stream, fromSequence);
    }

    @Override
    public long lastSequence(StreamId stream) {
        return delegate.lastSequence(stream);
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        return delegate.readAll(after, maxCount);
    }

    @Override
    public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
        return delegate.findCommand(stream, commandId);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
