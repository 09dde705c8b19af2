package io.gyre.aggregate.internal;

import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.eventstore.ReadEventStream;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.UnregisteredTypeException;
import io.gyre.snapshot.ReadSnapshotWithEvents;
import io.gyre.snapshot.Snapshot;
import io.gyre.snapshot.SnapshotStore;
import io.gyre.snapshot.SnapshotWithEvents;
import java.util.Iterator;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads aggregates of one class: from the latest snapshot and the events after it, else from all events, each
 * upcast to its class's current revision by the serializer. Thread-safe; used by the command's thread on a cache
 * miss and by the background snapshotter. Internal: not part of Gyre's API.
 *
 * <h2>A snapshot is used only when it can be trusted</h2>
 * It is read only if it was written by this version of the aggregate class ({@link AggregateState}), and applied
 * only if the stored event at its sequence number is still the one it was taken after (same event id): a stream
 * whose tail was lost and written again, or a snapshot of another stream's data, is never taken as the state. A
 * snapshot that fails these checks, or that cannot be read, is ignored (the last with a warning) and the aggregate
 * is loaded from its events, so a snapshot can make loading faster but never different. A load that replays at
 * least the snapshot interval asks for a new snapshot.
 *
 * @param <A> the aggregate class
 */
public final class AggregateLoader<A> {

    private static final Logger log = LoggerFactory.getLogger(AggregateLoader.class);

    /**
     * A loaded aggregate.
     *
     * @param entry       the instance and its last sequence number
     * @param lastEventId the id of its last event
     * @param replayed    the events applied on top of the snapshot, or all of them without one
     * @param snapshot    the snapshot it started from, or null
     */
    public record Loaded(AggregateCache.Entry entry, String lastEventId, long replayed, @Nullable Snapshot snapshot) {
    }

    private final AggregateModel<A> model;
    private final ReadEventStream store;
    private final Serializer serializer;
    private final Function<Class<?>, @Nullable String> eventOwners;
    private final @Nullable SnapshotStore snapshots;
    private final @Nullable AggregateState<A> state;
    private final int snapshotEvery;
    private final Consumer<StreamId> requestSnapshot;

    /**
     * A loader without snapshots.
     *
     * @param model       the aggregate's model
     * @param store       where its events are
     * @param serializer  reads events, upcasting older revisions
     * @param eventOwners for an event class, the name of the registered aggregate type whose handlers take it, or
     *                    null; a stream holding another aggregate's event is refused instead of loaded
     */
    public AggregateLoader(AggregateModel<A> model, ReadEventStream store, Serializer serializer,
                           Function<Class<?>, @Nullable String> eventOwners) {
        this(model, store, serializer, eventOwners, null, null, 0, stream -> { });
    }

    /**
     * @param model           the aggregate's model
     * @param store           where its events are
     * @param serializer      reads events, upcasting older revisions
     * @param eventOwners     as for the other constructor
     * @param snapshots       where snapshots are, or null for none
     * @param state           reads snapshots of this class, or null for none
     * @param snapshotEvery   events between snapshots, 0 when this class takes none (then none is read either)
     * @param requestSnapshot asked for a snapshot of a stream that took {@code snapshotEvery} events or more to load
     */
    public AggregateLoader(AggregateModel<A> model, ReadEventStream store, Serializer serializer,
                           Function<Class<?>, @Nullable String> eventOwners, @Nullable SnapshotStore snapshots,
                           @Nullable AggregateState<A> state, int snapshotEvery, Consumer<StreamId> requestSnapshot) {
        this.model = Objects.requireNonNull(model, "model");
        this.store = Objects.requireNonNull(store, "store");
        this.serializer = Objects.requireNonNull(serializer, "serializer");
        this.eventOwners = Objects.requireNonNull(eventOwners, "eventOwners");
        this.snapshots = snapshots;
        this.state = state;
        this.snapshotEvery = snapshots == null || state == null ? 0 : snapshotEvery;
        this.requestSnapshot = Objects.requireNonNull(requestSnapshot, "requestSnapshot");
    }

    /** @return the model of the aggregates this loader loads */
    public AggregateModel<A> model() {
        return model;
    }

    /**
     * @param stream the aggregate
     * @return the instance, its last sequence number and how it was loaded
     * @throws AggregateNotFoundException when the aggregate has no events
     */
    public Loaded load(StreamId stream) {
        Loaded loaded = loadWithoutRequest(stream);
        if (snapshotEvery > 0 && loaded.replayed() >= snapshotEvery) {
            requestSnapshot.accept(stream);
        }
        return loaded;
    }

    /**
     * Loads as {@link #load(StreamId)} does, but never asks for a snapshot: for the snapshotter itself, which is
     * taking one.
     *
     * @param stream the aggregate
     * @return the instance, its last sequence number and how it was loaded
     * @throws AggregateNotFoundException when the aggregate has no events
     */
    public Loaded loadWithoutRequest(StreamId stream) {
        if (snapshotEvery > 0 && snapshots instanceof ReadSnapshotWithEvents together) {
            Loaded loaded = loadWithSnapshotInOneRead(stream, together);
            if (loaded != null) {
                return loaded;
            }
        }
        Loaded loaded = null;
        Snapshot snapshot = usableSnapshot(stream);
        if (snapshot != null) {
            loaded = fromSnapshot(stream, snapshot, store.readStream(stream, snapshot.sequence()));
        }
        if (loaded == null) {
            loaded = fromEvents(stream);
        }
        return loaded;
    }

    /**
     * Loads from the snapshot and the events that a snapshot store next to the events read together, one round trip
     * instead of two ({@code DatabaseWorkPerCommandTest} in gyre-eventstore-jdbc counts them). A snapshot that
     * cannot be used is dropped with the events read with it, and the aggregate is loaded from all its events, a
     * second read as before: only after a deploy that changed the class, until its next snapshot.
     *
     * @return the loaded aggregate, or null when the store cannot read this event store's events together
     */
    private @Nullable Loaded loadWithSnapshotInOneRead(StreamId stream, ReadSnapshotWithEvents together) {
        SnapshotWithEvents read;
        try {
            read = together.latestWithEvents(stream, store).orElse(null);
        } catch (RuntimeException e) {
            log.warn("Reading the snapshot of {} with its events failed; loading it from its events", stream, e);
            return fromEvents(stream);
        }
        if (read == null) {
            return null;
        }
        Snapshot snapshot = read.snapshot();
        if (snapshot == null) {
            return replay(stream, read.events(), model.newInstance(), -1, null, null);
        }
        Loaded loaded = null;
        if (usable(stream, snapshot)) {
            loaded = fromSnapshot(stream, snapshot, read.events());
        } else {
            read.events().close();
        }
        return loaded != null ? loaded : fromEvents(stream);
    }

    private Loaded fromEvents(StreamId stream) {
        return replay(stream, store.readStream(stream, 0), model.newInstance(), -1, null, null);
    }

    private @Nullable Snapshot usableSnapshot(StreamId stream) {
        if (snapshotEvery == 0 || snapshots == null || state == null) {
            return null;
        }
        Snapshot snapshot;
        try {
            snapshot = snapshots.latest(stream).orElse(null);
        } catch (RuntimeException e) {
            log.warn("Reading the snapshot of {} failed; loading it from its events", stream, e);
            return null;
        }
        if (snapshot == null) {
            return null;
        }
        return usable(stream, snapshot) ? snapshot : null;
    }

    /** @return true when the snapshot is of this stream and was written by this version of the class */
    private boolean usable(StreamId stream, Snapshot snapshot) {
        if (state == null) {
            return false;
        }
        if (!snapshot.stream().equals(stream)) {
            log.warn("The snapshot store returned a snapshot of {} for {}; ignored", snapshot.stream(), stream);
            return false;
        }
        if (!state.writtenByThisVersion(snapshot)) {
            // Normal after a deploy that changed the class: the next snapshot replaces it.
            log.debug("Snapshot of {} was written by another version of the class ({} revision {} shape {}, now "
                    + "revision {} shape {}); ignored", stream, snapshot.type(), snapshot.revision(), snapshot.shape(),
                    state.revision(), state.shape());
            return false;
        }
        return true;
    }

    /**
     * @param events the stream's events from the snapshot's own sequence number on; closed here
     */
    private @Nullable Loaded fromSnapshot(StreamId stream, Snapshot snapshot, Stream<StoredEvent> events) {
        A instance;
        try {
            instance = Objects.requireNonNull(state).read(snapshot.payload());
        } catch (RuntimeException e) {
            events.close();
            log.warn("Snapshot of {} at sequence {} cannot be read; loading the aggregate from its events instead",
                    stream, snapshot.sequence(), e);
            return null;
        }
        return replay(stream, events, instance, snapshot.sequence(), snapshot.lastEventId(), snapshot);
    }

    /**
     * Applies the events, and closes their stream. With a snapshot, they start at its own sequence number: that event
     * is read only to check it is still the one the snapshot was taken after, and returns null when it is not.
     */
    private @Nullable Loaded replay(StreamId stream, Stream<StoredEvent> stored, A instance, long lastSequence,
                                    @Nullable String lastEventId, @Nullable Snapshot snapshot) {
        long replayed = 0;
        try (Stream<StoredEvent> events = stored;
             Invocation invocation = Invocation.sourcing(model, instance)) {
            Iterator<StoredEvent> iterator = events.iterator();
            if (snapshot != null) {
                StoredEvent taken = iterator.hasNext() ? iterator.next() : null;
                if (taken == null || taken.sequence() != snapshot.sequence()
                        || !taken.eventId().equals(snapshot.lastEventId())) {
                    log.warn("Snapshot of {} was taken after event {} ({}), but the stored event there is {}; the "
                            + "stream changed under it, so it is ignored and the aggregate loaded from its events",
                            stream, snapshot.sequence(), snapshot.lastEventId(),
                            taken == null ? "missing" : taken.sequence() + " (" + taken.eventId() + ")");
                    return null;
                }
            }
            while (iterator.hasNext()) {
                StoredEvent event = iterator.next();
                if (event.sequence() != lastSequence + 1) {
                    throw new IllegalStateException("Stream of " + stream + " jumps from sequence " + lastSequence
                            + " to " + event.sequence());
                }
                if (!event.aggregateType().equals(stream.aggregateType())) {
                    throw new IllegalStateException("Event " + event.sequence() + " read for " + stream
                            + " belongs to aggregate type '" + event.aggregateType() + "'");
                }
                Object payload = deserialize(event);
                checkBelongsHere(stream, event, payload);
                invocation.source(payload, serializer.deserializeMetadata(event.metadata()));
                lastSequence = event.sequence();
                lastEventId = event.eventId();
                replayed++;
            }
        }
        if (lastSequence < 0 || lastEventId == null) {
            throw new AggregateNotFoundException(model.typeName(), stream.aggregateId());
        }
        return new Loaded(new AggregateCache.Entry(instance, lastSequence), lastEventId, replayed, snapshot);
    }

    /**
     * An event that only another aggregate type's handlers take cannot be part of this aggregate's history: it was
     * written into the wrong stream (by hand, or by a version of the application that mixed types up). Skipping it
     * would silently source a wrong state.
     */
    private void checkBelongsHere(StreamId stream, StoredEvent event, Object payload) {
        if (model.handlesEvent(payload.getClass())) {
            return;
        }
        String owner = eventOwners.apply(payload.getClass());
        if (owner != null && !owner.equals(model.typeName())) {
            throw new AggregateLifecycleException("Event " + event.sequence() + " (" + event.type() + ") in the "
                    + "stream of " + stream + " belongs to aggregate type " + owner + ", not " + model.typeName()
                    + ": the stream holds another aggregate's event and cannot be loaded as " + model.typeName());
        }
    }

    private Object deserialize(StoredEvent event) {
        try {
            return serializer.deserialize(new SerializedValue(event.type(), event.payload()), event.revision());
        } catch (UnregisteredTypeException e) {
            throw new UnregisteredTypeException("Event " + event.sequence() + " of aggregate " + event.aggregateType()
                    + " '" + event.aggregateId() + "' has a type this node does not know: " + e.getMessage());
        }
    }
}
