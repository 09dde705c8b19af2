package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateDefinitionException;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.TargetAggregateId;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import io.gyre.testmodel.Wallet;
import io.gyre.testmodel.Wallet.OpenWallet;
import io.gyre.testmodel.Wallet.Spend;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An aggregate is its type and its id: two types may share an id and never meet. */
class GyreNodeIdentityTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final Gyre node = Gyre.builder().sharedEventStore(store).aggregates(Counter.class, Wallet.class).start();

    @AfterEach
    void stop() {
        node.close();
    }

    @Test
    void two_aggregate_types_with_the_same_id_live_side_by_side() {
        node.commandGateway().sendAndWait(new CreateCounter("42"));
        assertThatThrownBy(() -> node.commandGateway().sendAndWait(new Spend("42", 5)))
                .as("the wallet 42 was never opened, whatever the counter 42 holds")
                .isInstanceOf(AggregateNotFoundException.class).hasMessageContaining("wallet");
        assertThat(node.commandGateway().<String>sendAndWait(new OpenWallet("42"))).isEqualTo("42");
        assertThat(node.commandGateway().<Long>sendAndWait(new Spend("42", 5))).isEqualTo(5);
        assertThat(node.commandGateway().<Long>sendAndWait(new Add("42", 7))).isEqualTo(7);

        assertThat(store.readStream(StreamId.of("Counter", "42")).map(StoredEvent::sequence)).containsExactly(0L, 1L);
        assertThat(store.readStream(StreamId.of("wallet", "42")).map(StoredEvent::sequence)).containsExactly(0L, 1L);
        assertThat(store.readStream(StreamId.of("wallet", "42")).map(StoredEvent::aggregateType))
                .containsOnly("wallet");
    }

    @Test
    void a_stream_holding_another_aggregates_event_is_refused_naming_both_types() {
        node.commandGateway().sendAndWait(new OpenWallet("w-1"));
        SerializedValue foreign = node.serializer().serializeForStorage(new Added("w-1", 3));
        store.append(AppendRequest.events(StreamId.of("wallet", "w-1"), ExpectedSequence.exactly(0), "planted",
                List.of(new EventData("planted-event", foreign.type(), foreign.data(), "{}", Instant.now()))));
        try (Gyre fresh = Gyre.builder().sharedEventStore(store).aggregates(Counter.class, Wallet.class).start()) {
            assertThatThrownBy(() -> fresh.commandGateway().sendAndWait(new Spend("w-1", 1)))
                    .isInstanceOf(AggregateLifecycleException.class)
                    .hasMessageContaining("belongs to aggregate type Counter, not wallet")
                    .hasMessageContaining("wallet 'w-1'");
        }
        assertThat(store.lastSequence(StreamId.of("wallet", "w-1"))).as("nothing more stored").isEqualTo(1);
    }

    @Aggregate(name = "bad name!")
    static class BadlyNamed {
        @AggregateId
        String id;

        @CommandHandler
        BadlyNamed(MakeBad command) {
        }
    }

    record MakeBad(@TargetAggregateId String id) {
    }

    @Aggregate(name = "Counter")
    static class Impostor {
        @AggregateId
        String id;

        Impostor() {
        }

        @CommandHandler
        Impostor(MakeImpostor command) {
        }

        @EventSourcingHandler
        void on(Added event) {
        }
    }

    record MakeImpostor(@TargetAggregateId String id) {
    }

    @Test
    void an_aggregate_name_that_is_invalid_or_taken_is_refused_at_registration() {
        assertThatThrownBy(() -> Gyre.builder().aggregate(BadlyNamed.class))
                .isInstanceOf(AggregateDefinitionException.class).hasMessageContaining("'bad name!'")
                .hasMessageContaining("@Aggregate(name = ...)");
        String tooLong = "x".repeat(101);
        assertThatThrownBy(() -> StreamId.checkTypeName(tooLong)).hasMessageContaining("101 characters");
        assertThatThrownBy(() -> Gyre.builder().aggregate(Counter.class).aggregate(Impostor.class))
                .isInstanceOf(AggregateDefinitionException.class)
                .hasMessageContaining("the same name 'Counter'");
    }

    @Test
    void an_id_that_is_empty_or_too_long_is_refused_at_send_and_nothing_is_stored() {
        assertThatThrownBy(() -> node.commandGateway().send(new OpenWallet("")))
                .isInstanceOf(MissingTargetAggregateIdException.class);
        assertThatThrownBy(() -> node.commandGateway().send(new OpenWallet("w".repeat(StreamId.MAX_ID_LENGTH + 1))))
                .isInstanceOf(MissingTargetAggregateIdException.class)
                .hasMessageContaining((StreamId.MAX_ID_LENGTH + 1) + " characters");
        assertThat(node.commandGateway().<String>sendAndWait(new OpenWallet("w".repeat(StreamId.MAX_ID_LENGTH))))
                .hasSize(StreamId.MAX_ID_LENGTH);
        assertThat(store.readAll(io.gyre.eventstore.TrackingToken.START, 10)).hasSize(1);
    }
}
