package io.gyre.examples.bench;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandIdReusedException;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A benchmark's in-memory store that keeps only the last {@value #KEPT} events and command records of each stream,
 * so that its size, and its cost per command, stay the same however many rounds run. The core's
 * {@code InMemoryEventStore} keeps everything: over a benchmark of millions of commands its command map grew so
 * large that looking a command id up there (a cache miss per append, under its one global lock) became a visible
 * share of a command's CPU, larger in every round, and the collector copied the growing heap.
 *
 * <p>Honest limits: not an event store for anything but benchmarks whose aggregates stay cached. Reading a stream
 * from a sequence it no longer keeps fails loudly instead of answering wrongly; a command re-delivered after
 * {@value #KEPT} later commands of its stream is not recognised; the global log is not kept, so {@link #readAll}
 * refuses (no tracking processor may run on it).
 */
final class RecentEventsStore implements EventStore {

    /**
     * Events and command records kept per stream: few, because what the store keeps survives young collections and
     * is copied into the old generation, a cost no store outside the heap puts on the JVM (a re-delivery, the only
     * reader of command records here, comes right after its first delivery).
     */
    static final int KEPT = 8;

    private final ConcurrentHashMap<StreamId, Recent> streams = new ConcurrentHashMap<>();
    private final AtomicLong positions = new AtomicLong();

    @Override
    public AppendResult append(AppendRequest request) {
        Objects.requireNonNull(request, "request");
        Recent stream = streams.computeIfAbsent(request.stream(), id -> new Recent());
        synchronized (stream) {
            CommandRecord earlier = stream.commands.get(request.commandId());
            if (earlier != null) {
                String fingerprint = request.fingerprint();
                if (fingerprint != null && earlier.isOtherCommandThan(fingerprint)) {
                    throw new CommandIdReusedException(earlier, fingerprint);
                }
                throw new DuplicateCommandException(earlier);
            }
            long actual = stream.head;
            if (!request.expected().matches(actual)) {
                throw new ConcurrencyConflictException(request.stream(), request.expected().lastSequence(), actual);
            }
            long first = actual + 1;
            long sequence = first;
            for (EventData event : request.events()) {
                stream.keep(new StoredEvent(positions.incrementAndGet(), request.aggregateType(),
                        request.aggregateId(), sequence++, event.eventId(), request.commandId(), event.type(),
                        event.payload(), event.metadata(), event.timestamp(), event.revision()));
            }
            stream.head = sequence - 1;
            stream.commands.put(request.commandId(), new CommandRecord(request.stream(), request.commandId(), actual,
                    request.events().size(), request.outcome(), request.fingerprint()));
            return new AppendResult(first, sequence - 1);
        }
    }

    @Override
    public Stream<StoredEvent> readStream(StreamId streamId, long fromSequence) {
        Objects.requireNonNull(streamId, "stream");
        Recent stream = streams.get(streamId);
        if (stream == null) {
            return Stream.empty();
        }
        synchronized (stream) {
            long oldestKept = stream.head - stream.events.size() + 1;
            if (fromSequence < oldestKept) {
                throw new UnsupportedOperationException("The benchmark's store keeps the last " + KEPT + " events of "
                        + "each stream, and " + streamId + " was read from sequence " + fromSequence + " (oldest kept: "
                        + oldestKept + "); was the aggregate evicted from its node's cache?");
            }
            List<StoredEvent> events = new ArrayList<>();
            for (StoredEvent event : stream.events) {
                if (event.sequence() >= fromSequence) {
                    events.add(event);
                }
            }
            return events.stream();
        }
    }

    @Override
    public long lastSequence(StreamId streamId) {
        Recent stream = streams.get(Objects.requireNonNull(streamId, "stream"));
        if (stream == null) {
            return -1;
        }
        synchronized (stream) {
            return stream.head;
        }
    }

    @Override
    public List<TrackedEvent> readAll(TrackingToken after, int maxCount) {
        throw new UnsupportedOperationException("The benchmark's store keeps no global log");
    }

    @Override
    public Optional<CommandRecord> findCommand(StreamId streamId, String commandId) {
        Recent stream = streams.get(Objects.requireNonNull(streamId, "stream"));
        if (stream == null) {
            return Optional.empty();
        }
        synchronized (stream) {
            return Optional.ofNullable(stream.commands.get(commandId));
        }
    }

    /** One stream's head and what is kept of it, guarded by itself. */
    private static final class Recent {

        final ArrayDeque<StoredEvent> events = new ArrayDeque<>();
        /** The last commands' records by command id, oldest first. */
        final java.util.LinkedHashMap<String, CommandRecord> commands = new java.util.LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(java.util.Map.Entry<String, CommandRecord> eldest) {
                return size() > KEPT;
            }
        };
        long head = -1;

        void keep(StoredEvent event) {
            if (events.size() == KEPT) {
                events.removeFirst();
            }
            events.addLast(event);
        }
    }
}
