package io.gyre.aggregate.internal;

import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.internal.Ids;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.UnregisteredTypeException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Runs commands on the aggregates of one class: loads the aggregate (cache, else its stream), invokes the
 * handler, and appends the applied events with the expected sequence number and the command id. The caller
 * guarantees that commands for one aggregate id never run concurrently on this node. Internal: not part of
 * Gyre's API.
 *
 * @param <A> the aggregate class
 */
public final class EventSourcedRepository<A> {

    private final AggregateModel<A> model;
    private final EventStore store;
    private final Serializer serializer;
    private final Clock clock;
    private final AggregateCache cache;

    /**
     * @param model      the aggregate's model
     * @param store      the event store
     * @param serializer turns events into stored form and back
     * @param clock      stamps applied events
     * @param cache      aggregates this node keeps loaded
     */
    public EventSourcedRepository(AggregateModel<A> model, EventStore store, Serializer serializer, Clock clock,
                                  AggregateCache cache) {
        this.model = Objects.requireNonNull(model, "model");
        this.store = Objects.requireNonNull(store, "store");
        this.serializer = Objects.requireNonNull(serializer, "serializer");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cache = Objects.requireNonNull(cache, "cache");
    }

    /** @return the model of the aggregates this repository serves */
    public AggregateModel<A> model() {
        return model;
    }

    /** @return the cache of loaded aggregates */
    public AggregateCache cache() {
        return cache;
    }

    /**
     * Runs one command to completion: its events are stored, or nothing is and the failure is thrown.
     *
     * @param command the command; its payload class must have a handler in this aggregate
     * @return the handler's result: the aggregate id for a creation command
     * @throws Exception whatever the handler throws, or a Gyre exception from loading, checking or storing
     */
    public @Nullable Object handle(CommandMessage command) throws Exception {
        CommandHandlerMember handler = model.commandHandler(command.payloadType());
        if (handler == null) {
            throw new IllegalArgumentException(model.type().getName() + " has no handler for "
                    + command.payloadType().getName());
        }
        String aggregateId = command.routingKey();
        try {
            return handler.creation() ? create(handler, command, aggregateId) : update(handler, command, aggregateId);
        } catch (StoredEarlier e) {
            // The instance may hold what this delivery applied before it found the earlier one.
            cache.remove(aggregateId);
            return resultOf(e.record);
        } catch (DuplicateCommandException e) {
            // An earlier attempt committed while this one ran (it was still alive, say across a partition):
            // this attempt's events are dropped and the command is acknowledged as it was first stored.
            cache.remove(aggregateId);
            return resultOf(e.stored());
        } catch (Exception | Error e) {
            // The instance may have half-applied events of the failed command: never reuse it.
            cache.remove(aggregateId);
            throw e;
        }
    }

    private @Nullable Object resultOf(CommandRecord stored) {
        if (stored.outcome() instanceof io.gyre.eventstore.CommandOutcome.Result result) {
            return result.value() == null ? null : serializer.deserialize(result.value());
        }
        throw new IllegalStateException("refused earlier: " + stored);
    }

    /** An earlier delivery of the command is stored: its outcome is the answer. */
    private static final class StoredEarlier extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient CommandRecord record;

        StoredEarlier(CommandRecord record) {
            super(null, null, false, false);
            this.record = record;
        }
    }

    /**
     * For a command that may have run before, looks for its stored outcome. Called after the state it is decided
     * on was read, so an earlier delivery that committed before that read is found here, and one that commits
     * later is caught by the store's unique command key when this one appends; and called again when this
     * delivery decided nothing (refused, or applied no event), which the command key cannot catch.
     */
    private void acknowledgeIfStored(CommandMessage command, String aggregateId) throws StoredEarlier {
        if (command.mayHaveRunBefore()) {
            Optional<CommandRecord> stored = store.findCommand(stream(aggregateId), command.commandId());
            if (stored.isPresent()) {
                throw new StoredEarlier(stored.get());
            }
        }
    }

    private Object create(CommandHandlerMember handler, CommandMessage command, String aggregateId) throws Exception {
        if (cache.get(aggregateId) != null || store.lastSequence(stream(aggregateId)) >= 0) {
            acknowledgeIfStored(command, aggregateId);
            throw new AggregateAlreadyExistsException(model.typeName(), aggregateId);
        }
        acknowledgeIfStored(command, aggregateId);
        Object instance;
        List<AppliedEvent> applied;
        try (Invocation invocation = Invocation.live(model, null)) {
            instance = Objects.requireNonNull(invoke(handler, null, command), "constructor result");
            invocation.attach(instance);
            applied = invocation.appliedEvents();
        }
        if (applied.isEmpty()) {
            throw new AggregateLifecycleException("Creation handler " + handler + " applied no event; an "
                    + "event-sourced aggregate exists only through its events");
        }
        String createdId = model.idOf(instance);
        if (!aggregateId.equals(createdId)) {
            throw new AggregateLifecycleException("Creation handler " + handler + " left @AggregateId '"
                    + model.idFieldName() + "' " + (createdId == null ? "unset" : "as '" + createdId + "'")
                    + " but the command targets '" + aggregateId + "'; set it from the creation event in an "
                    + "@EventSourcingHandler");
        }
        AppendResult result = append(aggregateId, ExpectedSequence.noStream(), command, applied, aggregateId);
        cache.put(aggregateId, new AggregateCache.Entry(instance, result.lastSequence()));
        return aggregateId;
    }

    private @Nullable Object update(CommandHandlerMember handler, CommandMessage command, String aggregateId)
            throws Exception {
        AggregateCache.Entry loaded = cache.get(aggregateId);
        if (loaded == null) {
            loaded = load(aggregateId);
        }
        acknowledgeIfStored(command, aggregateId);
        Object result;
        List<AppliedEvent> applied;
        try (Invocation invocation = Invocation.live(model, loaded.instance())) {
            result = invoke(handler, loaded.instance(), command);
            applied = invocation.appliedEvents();
        } catch (Exception e) {
            acknowledgeIfStored(command, aggregateId);
            throw e;
        }
        if (applied.isEmpty()) {
            acknowledgeIfStored(command, aggregateId);
        }
        long lastSequence = loaded.lastSequence();
        if (!applied.isEmpty()) {
            lastSequence = append(aggregateId, ExpectedSequence.exactly(lastSequence), command, applied, result)
                    .lastSequence();
        }
        cache.put(aggregateId, new AggregateCache.Entry(loaded.instance(), lastSequence));
        return result;
    }

    /**
     * Sources an aggregate from all its stored events.
     *
     * @param aggregateId the aggregate
     * @return the instance and its last sequence number
     * @throws AggregateNotFoundException when the aggregate has no events
     */
    public AggregateCache.Entry load(String aggregateId) {
        A instance = model.newInstance();
        long lastSequence = -1;
        try (Stream<StoredEvent> events = store.readStream(stream(aggregateId));
             Invocation invocation = Invocation.sourcing(model, instance)) {
            Iterator<StoredEvent> iterator = events.iterator();
            while (iterator.hasNext()) {
                StoredEvent event = iterator.next();
                if (event.sequence() != lastSequence + 1) {
                    throw new IllegalStateException("Stream of aggregate '" + aggregateId + "' jumps from sequence "
                            + lastSequence + " to " + event.sequence());
                }
                invocation.source(deserialize(event), serializer.deserializeMetadata(event.metadata()));
                lastSequence = event.sequence();
            }
        }
        if (lastSequence < 0) {
            throw new AggregateNotFoundException(model.typeName(), aggregateId);
        }
        return new AggregateCache.Entry(instance, lastSequence);
    }

    private Object deserialize(StoredEvent event) {
        try {
            return serializer.deserialize(new SerializedValue(event.type(), event.payload()));
        } catch (UnregisteredTypeException e) {
            throw new UnregisteredTypeException("Event " + event.sequence() + " of aggregate " + event.aggregateType()
                    + " '" + event.aggregateId() + "' has a type this node does not know: " + e.getMessage());
        }
    }

    private AppendResult append(String aggregateId, ExpectedSequence expected, CommandMessage command,
                                List<AppliedEvent> applied, @Nullable Object result) {
        SerializedValue storedResult = result == null ? null : serializeResult(result);
        Instant now = clock.instant();
        List<EventData> events = new ArrayList<>(applied.size());
        for (AppliedEvent event : applied) {
            SerializedValue payload = serializer.serializeForStorage(event.payload());
            events.add(new EventData(Ids.newId(), payload.type(), payload.data(),
                    serializer.serializeMetadata(event.metadata()), now));
        }
        return store.append(new AppendRequest(stream(aggregateId), expected, command.commandId(), events,
                io.gyre.eventstore.CommandOutcome.Result.of(storedResult)));
    }

    private io.gyre.eventstore.StreamId stream(String aggregateId) {
        return new io.gyre.eventstore.StreamId(model.typeName(), aggregateId);
    }

    private SerializedValue serializeResult(Object result) {
        try {
            return serializer.serializeForStorage(result);
        } catch (UnregisteredTypeException e) {
            throw new UnregisteredTypeException("The result of " + model.type().getSimpleName() + "'s handler is a "
                    + result.getClass().getName() + ", which is not registered: results are stored with the events "
                    + "(to acknowledge a re-sent command) and sent across the cluster, so return null, a JDK value "
                    + "(String, a number, Boolean, UUID, java.time) or a type registered with Gyre.builder().types(...)");
        }
    }

    private static @Nullable Object invoke(CommandHandlerMember handler, @Nullable Object aggregate,
                                           CommandMessage command) throws Exception {
        try {
            return handler.invoke(aggregate, command);
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("Handler " + handler + " threw " + e, e);
        }
    }
}
