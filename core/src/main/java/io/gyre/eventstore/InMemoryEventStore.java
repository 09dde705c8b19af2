package io.gyre.eventstore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * An event store in the heap of one JVM, for tests and single-node experiments: everything is lost when the
 * process ends. Appends are serialized by one lock, so global positions (1, 2, 3...) become visible in order.
 * Command fingerprints are kept and compared as {@link AppendRequest#fingerprint()} describes.
 */
public final class InMemoryEventStore implements EventStore {

    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<StreamId, List<StoredEvent>> streams = new HashMap<>();
    private final List<StoredEvent> log = new ArrayList<>();
    private final Map<CommandKey, CommandRecord> commands = new HashMap<>();
    private volatile boolean closed;

    /** Creates an empty store. */
    public InMemoryEventStore() {
    }

    @Override
    public AppendResult append(AppendRequest request) {
        Objects.requireNonNull(request, "request");
        lock.writeLock().lock();
        try {
            checkOpen();
            CommandKey key = new CommandKey(request.stream(), request.commandId());
            CommandRecord earlier = commands.get(key);
            if (earlier != null) {
                // Same rule as the JDBC store: a re-delivery gets the stored decision, another command under a
                // reused id is refused; an unknown fingerprint on either side is never compared.
                String fingerprint = request.fingerprint();
                if (fingerprint != null && earlier.isOtherCommandThan(fingerprint)) {
                    throw new CommandIdReusedException(earlier, fingerprint);
                }
                throw new DuplicateCommandException(earlier);
            }
            List<StoredEvent> stream = streams.get(request.stream());
            long actual = stream == null ? -1 : stream.size() - 1;
            if (!request.expected().matches(actual)) {
                throw new ConcurrencyConflictException(request.stream(), request.expected().lastSequence(), actual);
            }
            if (stream == null && !request.events().isEmpty()) {
                stream = new ArrayList<>();
                streams.put(request.stream(), stream);
            }
            long first = actual + 1;
            long sequence = first;
            for (EventData event : request.events()) {
                StoredEvent stored = new StoredEvent(log.size() + 1L, request.aggregateType(), request.aggregateId(),
                        sequence++, event.eventId(), request.commandId(), event.type(), event.payload(),
                        event.metadata(), event.timestamp(), event.revision());
                stream.add(stored);
                log.add(stored);
            }
            commands.put(key, new CommandRecord(request.stream(), request.commandId(), actual,
                    request.events().size(), request.outcome(), request.fingerprint()));
            return new AppendResult(first, sequence - 1);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public Stream<StoredEvent> readStream(StreamId streamId, long fromSequence) {
        Objects.requireNonNull(streamId, "stream");
        if (fromSequence < 0) {
            throw new IllegalArgumentException("fromSequence must be 0 or more, but was " + fromSequence);
        }
        lock.readLock().lock();
        try {
            checkOpen();
            List<StoredEvent> stream = streams.get(streamId);
            if (stream == null || fromSequence >= stream.size()) {
                return Stream.empty();
            }
            return List.copyOf(stream.subList((int) fromSequence, stream.size())).stream();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long lastSequence(StreamId streamId) {
        Objects.requireNonNull(streamId, "stream");
        lock.readLock().lock();
        try {
            checkOpen();
            List<StoredEvent> stream = streams.get(streamId);
            return stream == null ? -1 : stream.size() - 1;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        Objects.requireNonNull(after, "after");
        if (maxCount < 1) {
            throw new IllegalArgumentException("maxCount must be 1 or more, but was " + maxCount);
        }
        lock.readLock().lock();
        try {
            checkOpen();
            // Positions are 1..log.size() without holes, so position p sits at index p - 1.
            int from = (int) Math.min(after.position(), log.size());
            int to = (int) Math.min((long) from + maxCount, log.size());
            List<TrackedEvent> batch = new ArrayList<>(to - from);
            for (StoredEvent event : log.subList(from, to)) {
                batch.add(new TrackedEvent(event, TrackingToken.at(event.position())));
            }
            return batch;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(commandId, "commandId");
        lock.readLock().lock();
        try {
            checkOpen();
            return Optional.ofNullable(commands.get(new CommandKey(stream, commandId)));
        } finally {
            lock.readLock().unlock();
        }
    }

    private record CommandKey(StreamId stream, String commandId) {
    }

    /** Drops every event; later calls fail with {@link EventStoreException}. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            closed = true;
            streams.clear();
            log.clear();
            commands.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new EventStoreClosedException("The in-memory event store is closed", null);
        }
    }
}
