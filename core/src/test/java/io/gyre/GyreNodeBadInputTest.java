package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.command.CommandGateway;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.serialization.UnregisteredTypeException;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddNullable;
import io.gyre.testmodel.CounterCommands.AddThenFail;
import io.gyre.testmodel.CounterCommands.ApplyUnregistered;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterCommands.NoTarget;
import io.gyre.testmodel.CounterCommands.Unhandled;
import io.gyre.testmodel.Probe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every kind of bad input gets a typed error naming what is wrong, stores nothing, and harms nobody else. */
class GyreNodeBadInputTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private Gyre node;
    private CommandGateway gateway;

    @BeforeEach
    void start() {
        Probe.reset();
        node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        gateway = node.commandGateway();
        gateway.sendAndWait(new CreateCounter("c"));
    }

    @AfterEach
    void stop() {
        try {
            assertThat(gateway.<Long>sendAndWait(new Add("other", 0)).longValue())
                    .as("the node keeps serving everyone else").isZero();
        } finally {
            node.close();
        }
    }

    private long storedEvents() {
        return store.readAll(TrackingToken.START, 10_000).size();
    }

    @Test
    void a_command_type_nobody_handles_is_refused_with_its_name_and_nothing_is_stored() {
        long before = storedEvents();
        assertThatThrownBy(() -> gateway.sendAndWait(new Unhandled("c")))
                .isInstanceOf(NoHandlerForCommandException.class)
                .hasMessageContaining(Unhandled.class.getName());
        assertThat(storedEvents()).isEqualTo(before);
        gateway.sendAndWait(new CreateCounter("other"));
    }

    @Test
    void a_creation_command_for_an_existing_id_is_refused_and_the_stream_is_untouched() {
        gateway.sendAndWait(new CreateCounter("other"));
        gateway.sendAndWait(new Add("c", 5));
        assertThatThrownBy(() -> gateway.sendAndWait(new CreateCounter("c")))
                .isInstanceOf(AggregateAlreadyExistsException.class)
                .hasMessageContaining("'c'");
        assertThat(store.readStream(StreamId.of("Counter", "c")).count()).isEqualTo(2);
        assertThat(gateway.<Long>sendAndWait(new Add("c", 1))).isEqualTo(6);
    }

    @Test
    void a_creation_command_for_an_id_created_by_another_node_is_refused_too() {
        try (Gyre other = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            other.commandGateway().sendAndWait(new CreateCounter("elsewhere"));
        }
        gateway.sendAndWait(new CreateCounter("other"));
        assertThatThrownBy(() -> gateway.sendAndWait(new CreateCounter("elsewhere")))
                .isInstanceOf(AggregateAlreadyExistsException.class);
    }

    @Test
    void a_command_type_without_a_target_id_member_is_refused_naming_the_type() {
        gateway.sendAndWait(new CreateCounter("other"));
        assertThatThrownBy(() -> gateway.sendAndWait(new NoTarget(1)))
                .isInstanceOf(MissingTargetAggregateIdException.class)
                .hasMessageContaining(NoTarget.class.getName())
                .hasMessageContaining("@TargetAggregateId");
    }

    @Test
    void a_null_or_blank_target_id_is_refused_before_anything_runs() {
        gateway.sendAndWait(new CreateCounter("other"));
        long before = storedEvents();
        assertThatThrownBy(() -> gateway.sendAndWait(new AddNullable(null)))
                .isInstanceOf(MissingTargetAggregateIdException.class)
                .hasMessageContaining("null")
                .hasMessageContaining("'id'");
        assertThatThrownBy(() -> gateway.sendAndWait(new AddNullable("  ")))
                .isInstanceOf(MissingTargetAggregateIdException.class)
                .hasMessageContaining("blank");
        assertThatThrownBy(() -> gateway.send(new AddNullable(null)))
                .as("send refuses at once, before anything is dispatched")
                .isInstanceOf(MissingTargetAggregateIdException.class);
        assertThat(storedEvents()).isEqualTo(before);
    }

    @Test
    void a_handler_exception_reaches_the_caller_unchanged_stores_nothing_and_the_aggregate_keeps_working() {
        gateway.sendAndWait(new CreateCounter("other"));
        gateway.sendAndWait(new Add("c", 5));
        assertThatThrownBy(() -> gateway.sendAndWait(new AddThenFail("c", 100)))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("AddThenFail refuses after applying 100");
        assertThat(store.readStream(StreamId.of("Counter", "c")).count()).isEqualTo(2);
        assertThat(gateway.<Long>sendAndWait(new Add("c", 1)))
                .as("the event applied before the exception did not stick to the cached aggregate").isEqualTo(6);
    }

    @Test
    void a_handler_exception_is_never_retried() throws Exception {
        gateway.sendAndWait(new CreateCounter("other"));
        Probe.reset();
        Probe.onHandle(message -> {
            throw new IllegalArgumentException("refused by the business rule");
        });
        CompletableFuture<Object> result = gateway.send(new Add("c", 1));
        assertThatThrownBy(result::get).isInstanceOf(ExecutionException.class)
                .cause().isExactlyInstanceOf(IllegalArgumentException.class);
        assertThat(Probe.commandIds()).hasSize(1);
        Probe.reset();
    }

    @Test
    void an_event_of_an_unregistered_type_is_refused_with_its_name_and_nothing_is_stored() {
        gateway.sendAndWait(new CreateCounter("other"));
        gateway.sendAndWait(new Add("c", 5));
        assertThatThrownBy(() -> gateway.sendAndWait(new ApplyUnregistered("c")))
                .isInstanceOf(UnregisteredTypeException.class)
                .hasMessageContaining("NotRegistered")
                .hasMessageContaining("types(");
        assertThat(store.readStream(StreamId.of("Counter", "c")).count()).isEqualTo(2);
        assertThat(gateway.<Long>sendAndWait(new Add("c", 1))).isEqualTo(6);
    }

    @Test
    void a_command_for_an_aggregate_that_does_not_exist_is_refused() {
        gateway.sendAndWait(new CreateCounter("other"));
        assertThatThrownBy(() -> gateway.sendAndWait(new Add("nobody", 1)))
                .isInstanceOf(AggregateNotFoundException.class)
                .hasMessageContaining("'nobody'");
        assertThat(store.lastSequence(StreamId.of("Counter", "nobody"))).isEqualTo(-1);
    }

    @Test
    void a_null_command_is_refused() {
        gateway.sendAndWait(new CreateCounter("other"));
        assertThatThrownBy(() -> gateway.sendAndWait(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void a_node_needs_an_event_store_and_an_aggregate() {
        gateway.sendAndWait(new CreateCounter("other"));
        assertThatThrownBy(() -> Gyre.builder().aggregate(Counter.class).start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("eventStore(");
        assertThatThrownBy(() -> Gyre.builder().eventStore(new InMemoryEventStore()).start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("aggregate(");
        assertThatThrownBy(() -> Gyre.builder().workers(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("workers must be between 1 and 1024, but was 0");
        assertThatThrownBy(() -> Gyre.builder().cacheSize(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was -1");
    }
}
