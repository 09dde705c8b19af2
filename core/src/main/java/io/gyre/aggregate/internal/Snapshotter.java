package io.gyre.aggregate.internal;

import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.eventstore.StreamId;
import io.gyre.snapshot.Snapshot;
import io.gyre.snapshot.SnapshotStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes snapshots in the background, on one thread of its own, never on a command's thread: every
 * {@code every} events of an aggregate (as its appends cross a multiple of the interval), and when loading an
 * aggregate replayed that many events or more. Internal: not part of Gyre's API.
 *
 * <p>A snapshot is made by loading the aggregate afresh from the store (its latest snapshot and the events after
 * it), not by copying the instance a command thread holds: that instance is changed by the next command at any
 * moment, and may hold events not stored yet. So a snapshot is always of stored events, and costs the command
 * path nothing but a counter check. Before it is stored, its JSON is read back and written again, and a state
 * that cannot be read back, or does not come back the same (a field Jackson cannot read as it wrote it), is not
 * stored, with a warning once per aggregate class: such a snapshot would load a different aggregate than the
 * events do, or none. The check compares JSON, so it cannot see a value read back as another class with the same
 * JSON (a field declared {@code Object} holding an {@code Instant} comes back a {@code String}): declare fields
 * with the types they hold.
 *
 * <p>Requests for a stream already waiting are dropped, and so are requests beyond the queue's capacity: a
 * missed snapshot is taken at the next interval, or by the next long load.
 */
public final class Snapshotter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);
    private static final int QUEUE_CAPACITY = 10_000;

    /** What is needed to snapshot one aggregate class. */
    private record Target<A>(AggregateLoader<A> loader, AggregateState<A> state, int every) {
    }

    private final SnapshotStore store;
    private final Clock clock;
    private final Map<String, Target<?>> targets = new ConcurrentHashMap<>();
    private final Set<StreamId> waiting = ConcurrentHashMap.newKeySet();
    private final Set<String> lossyTypes = ConcurrentHashMap.newKeySet();
    private final ThreadPoolExecutor thread;

    /**
     * @param nodeName names the thread
     * @param store    where snapshots go
     * @param clock    stamps them
     */
    public Snapshotter(String nodeName, SnapshotStore store, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(QUEUE_CAPACITY),
                runnable -> {
                    Thread t = new Thread(runnable, nodeName + "-snapshots");
                    t.setDaemon(true);
                    t.setPriority(Thread.NORM_PRIORITY - 1);
                    return t;
                });
    }

    /**
     * Snapshots an aggregate class.
     *
     * @param loader loads its aggregates
     * @param state  writes their state
     * @param every  events between snapshots, 1 or more
     * @param <A>    the aggregate class
     */
    public <A> void register(AggregateLoader<A> loader, AggregateState<A> state, int every) {
        if (every < 1) {
            throw new IllegalArgumentException("every must be 1 or more, but was " + every);
        }
        targets.put(loader.model().typeName(), new Target<>(loader, state, every));
    }

    /**
     * Called after an append: asks for a snapshot when the stream's length crossed a multiple of its interval.
     *
     * @param stream        the aggregate
     * @param firstSequence the first event appended
     * @param lastSequence  the last event appended
     */
    public void appended(StreamId stream, long firstSequence, long lastSequence) {
        Target<?> target = targets.get(stream.aggregateType());
        // Lengths before and after the append: firstSequence events, then lastSequence + 1.
        if (target != null && (lastSequence + 1) / target.every() > firstSequence / target.every()) {
            request(stream);
        }
    }

    /**
     * Asks for a snapshot of a stream, unless one is already waiting.
     *
     * @param stream the aggregate
     */
    public void request(StreamId stream) {
        if (!targets.containsKey(stream.aggregateType()) || !waiting.add(stream)) {
            return;
        }
        try {
            thread.execute(() -> {
                waiting.remove(stream);
                take(stream);
            });
        } catch (RejectedExecutionException e) {
            waiting.remove(stream);
            log.debug("Snapshot of {} not taken: the snapshot queue is full or closed", stream);
        }
    }

    private void take(StreamId stream) {
        Target<?> target = targets.get(stream.aggregateType());
        if (target != null) {
            try {
                take(stream, target);
            } catch (AggregateNotFoundException e) {
                log.debug("No snapshot of {}: it has no events", stream);
            } catch (RuntimeException e) {
                log.warn("Taking a snapshot of {} failed; it loads from its events until the next one", stream, e);
            }
        }
    }

    private <A> void take(StreamId stream, Target<A> target) {
        AggregateLoader.Loaded loaded = target.loader().loadWithoutRequest(stream);
        if (loaded.snapshot() != null && loaded.replayed() == 0) {
            return;
        }
        AggregateState<A> state = target.state();
        String json = state.write(loaded.entry().instance());
        String again;
        try {
            again = state.write(state.read(json));
        } catch (RuntimeException e) {
            if (lossyTypes.add(state.type())) {
                log.warn("Snapshots of {} are not stored: its state is written but cannot be read back. Make every "
                        + "field readable by Jackson (declare the concrete types it holds), or mark derived fields "
                        + "transient", state.type(), e);
            }
            return;
        }
        if (!again.equals(json)) {
            if (lossyTypes.add(state.type())) {
                log.warn("Snapshots of {} are not stored: its state does not read back as it was written (first "
                        + "difference at character {}), so a snapshot would load another state than its events do. "
                        + "Make every field readable by Jackson, or mark derived fields transient", state.type(),
                        firstDifference(json, again));
            }
            return;
        }
        store.store(new Snapshot(stream, loaded.entry().lastSequence(), loaded.lastEventId(), state.type(),
                state.revision(), state.shape(), json, clock.instant()));
    }

    private static int firstDifference(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    /**
     * Stops taking snapshots: the one being taken may finish, up to the timeout; waiting ones are dropped.
     *
     * @param timeout how long to wait for the one being taken
     */
    public void close(Duration timeout) {
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("A snapshot was still being taken {} after closing", timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
