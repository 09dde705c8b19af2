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
    public Stream<StoredEvent> readStream(String aggregateId, long fromSequence) {
        return delegate.readStream(aggregateId, fromSequence);
    }

    @Override
    public long lastSequence(String aggregateId) {
        return delegate.lastSequence(aggregateId);
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        return delegate.readAll(after, maxCount);
    }

    @Override
    public Optional<CommandRecord> findCommand(String aggregateId, String commandId) {
        return delegate.findCommand(aggregateId, commandId);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
