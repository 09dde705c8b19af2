package io.gyre.testing;

import io.gyre.Metadata;
import io.gyre.aggregate.internal.AggregateCache;
import io.gyre.aggregate.internal.AggregateModel;
import io.gyre.aggregate.internal.EventSourcedRepository;
import io.gyre.command.CommandMessage;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.serialization.JacksonSerializer;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.TypeRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Given-when-then tests for one aggregate class, with no node, bus or database:
 *
 * <pre>{@code
 * AggregateFixture.of(Account.class)
 *         .given(new AccountOpened("acc-1", "ann"), new Deposited("acc-1", 100))
 *         .when(new Withdraw("acc-1", 30))
 *         .expectEvents(new Withdrawn("acc-1", 30))
 *         .expectState(account -> assertThat(account.balance()).isEqualTo(70));
 * }</pre>
 *
 * <p>The fixture uses the node's own model, serializer and repository over an in-memory store: given events
 * and applied events go through serialization (an unregistered or unserializable event fails the test), the
 * state checked by {@link Outcome#expectState} is sourced again from the stored events, and a command handler
 * that changes state outside an {@code @EventSourcingHandler} is reported, because the state it leaves differs
 * from the state its events produce.
 *
 * <p>Immutable: {@link #given} returns a new fixture, so one fixture may serve many tests.
 *
 * @param <A> the aggregate class
 */
public final class AggregateFixture<A> {

    private final AggregateModel<A> model;
    private final TypeRegistry types;
    private final Clock clock;
    private final List<Object> givenEvents;

    private AggregateFixture(AggregateModel<A> model, TypeRegistry types, Clock clock, List<Object> givenEvents) {
        this.model = model;
        this.types = types;
        this.clock = clock;
        this.givenEvents = List.copyOf(givenEvents);
    }

    /**
     * @param aggregateType the aggregate class
     * @param <A>           the aggregate class
     * @return a fixture with no prior events
     * @throws io.gyre.aggregate.AggregateDefinitionException when the class breaks a rule of the model
     */
    public static <A> AggregateFixture<A> of(Class<A> aggregateType) {
        AggregateModel<A> model = AggregateModel.of(aggregateType);
        TypeRegistry.Builder types = TypeRegistry.builder();
        model.commandHandlers().keySet().forEach(types::register);
        model.eventTypes().forEach(types::register);
        return new AggregateFixture<>(model, types.build(), Clock.systemUTC(), List.of());
    }

    /**
     * @param extraTypes event types to allow beyond those the handlers name, as with
     *                   {@code Gyre.builder().types(...)}
     * @return a fixture that also serializes these types
     */
    public AggregateFixture<A> registerTypes(Class<?>... extraTypes) {
        TypeRegistry.Builder builder = types.toBuilder();
        Arrays.stream(extraTypes).forEach(builder::register);
        return new AggregateFixture<>(model, builder.build(), clock, givenEvents);
    }

    /**
     * @param fixtureClock the clock that stamps events
     * @return a fixture using it
     */
    public AggregateFixture<A> withClock(Clock fixtureClock) {
        return new AggregateFixture<>(model, types, Objects.requireNonNull(fixtureClock, "clock"), givenEvents);
    }

    /**
     * @param events events already stored for the aggregate the command will target, oldest first
     * @return a fixture with these prior events (added after any given before)
     */
    public AggregateFixture<A> given(Object... events) {
        List<Object> all = new ArrayList<>(givenEvents);
        for (Object event : events) {
            all.add(Objects.requireNonNull(event, "given event"));
        }
        return new AggregateFixture<>(model, types, clock, all);
    }

    /** @return a fixture whose aggregate does not exist before the command */
    public AggregateFixture<A> givenNoPriorActivity() {
        return new AggregateFixture<>(model, types, clock, List.of());
    }

    /**
     * Runs a command against the given events.
     *
     * @param command the command
     * @return what happened, to check
     */
    public Outcome<A> when(Object command) {
        return when(command, Metadata.empty());
    }

    /**
     * Runs a command with metadata against the given events.
     *
     * @param command  the command
     * @param metadata its metadata
     * @return what happened, to check
     */
    public Outcome<A> when(Object command, Metadata metadata) {
        Objects.requireNonNull(command, "command");
        Serializer serializer = new JacksonSerializer(types);
        InMemoryEventStore store = new InMemoryEventStore();
        AggregateCache cache = new AggregateCache(1);
        EventSourcedRepository<A> repository = new EventSourcedRepository<>(model, store, serializer, clock, cache);
        CommandMessage message;
        try {
            message = CommandMessage.of(command, metadata);
        } catch (RuntimeException e) {
            return Outcome.failed(model, e);
        }
        if (model.commandHandler(command.getClass()) == null) {
            return Outcome.failed(model, new NoHandlerForCommandException("Aggregate " + model.type().getName()
                    + " has no @CommandHandler for " + command.getClass().getName()));
        }
        String aggregateId = message.routingKey();
        storeGiven(store, serializer, aggregateId);

        Object result = null;
        Throwable failure = null;
        try {
            result = repository.handle(message);
        } catch (Throwable e) {
            failure = e;
        }
        List<Object> applied;
        try (Stream<io.gyre.eventstore.StoredEvent> stream = store.readStream(new io.gyre.eventstore.StreamId(model.typeName(), aggregateId), givenEvents.size())) {
            applied = stream.map(event -> serializer.deserialize(new SerializedValue(event.type(), event.payload()),
                            event.revision()))
                    .toList();
        }
        AggregateCache.Entry live = failure == null ? cache.get(aggregateId) : null;
        return new Outcome<>(model, repository, aggregateId, result, failure, applied,
                live == null ? null : live.instance());
    }

    private void storeGiven(InMemoryEventStore store, Serializer serializer, String aggregateId) {
        if (givenEvents.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < givenEvents.size(); i++) {
            SerializedValue payload = serializer.serializeForStorage(givenEvents.get(i));
            events.add(new EventData("given-" + i, payload.type(), payload.data(),
                    serializer.serializeMetadata(Metadata.empty()), now,
                    serializer.revisionOf(givenEvents.get(i).getClass())));
        }
        store.append(AppendRequest.events(new io.gyre.eventstore.StreamId(model.typeName(), aggregateId),
                ExpectedSequence.noStream(), "given", events));
    }
}
