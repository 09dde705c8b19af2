package io.gyre.command.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.gyre.Gyre;
import io.gyre.GyreNonTransientException;
import io.gyre.command.CommandGateway;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.CommandIdReusedException;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.conformance.EventStoreFixture;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddAtMost;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.Probe;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A caller's own command id (an idempotency key) names one command, through the public API: sent again with the
 * same command, it gets the first result and the command takes effect once; sent with a different command, it is
 * refused with a non-transient {@link CommandIdReusedException} that says so, instead of handing back the first
 * command's outcome, and nothing is stored. A store runs it with a subclass of a few lines.
 */
public abstract class CommandIdReuseScenarios {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final StreamId COUNTER = StreamId.of("Counter", "c");

    private EventStoreFixture fixture;
    private Gyre node;
    private CommandGateway gateway;

    /** @return a fixture with a fresh, empty store */
    protected abstract EventStoreFixture createFixture();

    @BeforeEach
    void start() {
        Probe.reset();
        fixture = createFixture();
        startNode(fixture.store());
    }

    private void startNode(EventStore store) {
        node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        gateway = node.commandGateway();
    }

    @AfterEach
    void stop() {
        node.close();
        fixture.close();
    }

    private Object send(Object command, String commandId) {
        return gateway.sendAndWait(CommandMessage.of(command).withCommandId(commandId), TIMEOUT);
    }

    private long eventsOf(String commandId) {
        return fixture.store().readStream(COUNTER).map(StoredEvent::commandId).filter(commandId::equals).count();
    }

    private static void assertReused(Throwable thrown, String commandId) {
        assertThat(thrown).isInstanceOf(CommandIdReusedException.class)
                .hasMessageContaining("Command id " + commandId)
                .hasMessageContaining("different command")
                .hasMessageContaining(COUNTER.toString());
        assertThat(GyreNonTransientException.isCauseOf(thrown)).as("retrying cannot help").isTrue();
    }

    @Test
    void the_same_command_sent_again_under_its_id_gets_the_first_result_and_takes_effect_once() {
        gateway.sendAndWait(new CreateCounter("c"), TIMEOUT);
        Probe.reset();

        assertThat(send(new Add("c", 7), "key-1")).isEqualTo(7L);
        gateway.sendAndWait(new Add("c", 100), TIMEOUT);
        assertThat(send(new Add("c", 7), "key-1")).as("the first result, not the state now").isEqualTo(7L);

        assertThat(eventsOf("key-1")).isEqualTo(1);
        assertThat(Probe.commandIds()).as("handler runs").containsOnlyOnce("key-1").hasSize(2);
        assertThat(fixture.store().findCommand(COUNTER, "key-1")).get().extracting(CommandRecord::fingerprint)
                .asString().startsWith("sha256:");
    }

    @Test
    void another_command_under_a_used_id_is_refused_as_such_and_nothing_of_it_is_stored() {
        gateway.sendAndWait(new CreateCounter("c"), TIMEOUT);
        assertThat(send(new Add("c", 7), "key-2")).isEqualTo(7L);

        assertReused(catchThrowable(() -> send(new Add("c", 8), "key-2")), "key-2");
        assertReused(catchThrowable(() -> send(new AddAtMost("c", 7, 100), "key-2")), "key-2");

        assertThat(eventsOf("key-2")).isEqualTo(1);
        assertThat(fixture.store().lastSequence(COUNTER)).isEqualTo(1);
        assertThat(send(new Add("c", 7), "key-2")).as("the first command still gets its result").isEqualTo(7L);
        assertThat(gateway.<Long>sendAndWait(new Add("c", 0), TIMEOUT)).as("the aggregate keeps working")
                .isEqualTo(7L);
    }

    @Test
    void another_command_under_the_id_of_a_refusal_or_a_creation_is_refused_as_such() {
        assertThat(send(new CreateCounter("c"), "create-key")).isEqualTo("c");
        assertReused(catchThrowable(() -> send(new Add("c", 1), "create-key")), "create-key");

        Throwable refused = catchThrowable(() -> send(new AddAtMost("c", 5, 1), "refused-key"));
        assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("exceeds");
        assertReused(catchThrowable(() -> send(new AddAtMost("c", 1, 1), "refused-key")), "refused-key");
        assertThat(catchThrowable(() -> send(new AddAtMost("c", 5, 1), "refused-key")))
                .as("the refused command sent again gets its refusal").hasMessageContaining("exceeds");

        assertThat(fixture.store().lastSequence(COUNTER)).isZero();
    }

    /**
     * The look-up before deciding sees nothing here, as when the first command is stored by another node between
     * that look-up and this append: the store itself refuses the reused id when the decision is appended.
     */
    @Test
    void a_reused_id_that_the_look_up_misses_is_refused_by_the_store_when_the_decision_is_appended() {
        node.close();
        startNode(new ForwardingEventStore(fixture.store()) {
            @Override
            public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
                return Optional.empty();
            }
        });
        gateway.sendAndWait(new CreateCounter("c"), TIMEOUT);
        assertThat(send(new Add("c", 7), "key-3")).isEqualTo(7L);

        assertReused(catchThrowable(() -> send(new Add("c", 8), "key-3")), "key-3");
        assertReused(catchThrowable(() -> send(new AddAtMost("c", 100, 1), "key-3")), "key-3");

        assertThat(eventsOf("key-3")).isEqualTo(1);
        assertThat(gateway.<Long>sendAndWait(new Add("c", 1), TIMEOUT))
                .as("the aggregate dropped the events of the refused command").isEqualTo(8L);
    }
}
