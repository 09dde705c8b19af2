package io.gyre.eventstore;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * An event store that passes every call to another one; extend it to decorate a store (metrics, logging, fault
 * injection in tests) by overriding only the calls of interest.
 *
 * <p>{@link #append} and {@link #appendAsync} are forwarded each to its own counterpart, so that the delegate's
 * asynchronous writes stay asynchronous: a decorator of writes overrides both (Gyre's repositories call
 * {@link #appendAsync}, and {@link #append} through {@link #appendWithin} for a caller deciding its own command), or
 * has {@link #appendAsync} call {@link #appendOnCallingThread} when it may block the caller (fault injection in a
 * test). {@link #appendWithin} is not forwarded: it calls this store's {@link #append} (the SPI's default), so that
 * such a decorator sees every write; one that passes writes on unchanged may forward it to its delegate too, to keep
 * the delegate's bound on a waiting caller's write.
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
    public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
        return delegate.appendAsync(request);
    }

    /**
     * For a decorator that overrides {@link #append} only: runs this store's {@link #append} on the calling thread
     * and returns its outcome as a completed future, as {@link AppendEvents#appendAsync} does by default.
     *
     * @param request the decision
     * @return the completed future, failed with what {@link #append} threw
     */
    protected final CompletableFuture<AppendResult> appendOnCallingThread(AppendRequest request) {
        try {
            return CompletableFuture.completedFuture(append(request));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
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
