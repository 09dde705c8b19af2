package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review of the closed-store answers (874ad2a): a command re-sent under the id the caller chose, as
 * {@link CommandOutcomeUnknownException} tells a caller to do to learn a command's outcome, reaches a store that
 * closed meanwhile. The store refuses the look-up of the id (nothing of this delivery is stored), but the first
 * send under that id is stored: "not executed, nothing of it is stored, safe to send again under a new id" would
 * have the caller apply it twice. Outcome unknown is the only honest answer.
 */
class ClosedStoreResendReviewTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);

    @Test
    void a_resend_under_a_caller_chosen_id_to_a_closed_store_is_not_answered_not_executed() throws Exception {
        InMemoryEventStore store = new InMemoryEventStore();
        Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
        try {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            CommandMessage first = CommandMessage.of(new Add("c", 7)).withCommandId("add-7");
            // The first send is stored (its caller may have got "outcome unknown": a lost answer, a node that left).
            node.commandGateway().sendAndWait(first, DEADLINE);
            long storedBefore = store.lastSequence(StreamId.of("Counter", "c"));
            store.close();
            Throwable outcome;
            try {
                Object value = node.commandGateway().send(CommandMessage.of(new Add("c", 7))
                        .withCommandId("add-7"), DEADLINE).get(10, TimeUnit.SECONDS);
                throw new AssertionError("a closed store answered " + value);
            } catch (ExecutionException e) {
                outcome = e.getCause();
            }
            assertThat(storedBefore).as("the first send's event is stored").isEqualTo(1);
            assertThat(outcome).as("the re-send of stored command add-7")
                    .isNotInstanceOf(CommandNotExecutedException.class)
                    .isInstanceOf(CommandOutcomeUnknownException.class)
                    .hasCauseInstanceOf(EventStoreClosedException.class);
            assertThat(((EventStoreClosedException) outcome.getCause()).mayHaveBeenStored())
                    .as("the repository's closed failure says the command may be stored").isTrue();
        } finally {
            node.close();
        }
    }
}
