package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.EventStoreException;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.routing.jgroups.internal.WireMessage.WireError;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * An owner's closed event store crosses the wire keeping {@code mayHaveBeenStored} and the command's id, in the kinds
 * members of earlier versions already read correctly ("not executed", "outcome unknown"): they decode those two kinds
 * by their kind and command id alone, whatever the type name says, which this test reproduces by decoding the same
 * error under the type name those kinds carried before.
 */
class ErrorCodecStoreClosedTest {

    private static final String COMMAND_ID = "cmd-42";

    private static WireError throughTheWire(WireError error) {
        Reply reply = (Reply) WireFormat.decodeOne(WireFormat.encode(new Reply(9, null, error)));
        return reply.error();
    }

    /**
     * The error as a member of an earlier version reads it: by its kind and command id, the class name ignored, which
     * is what a reader of this version does with the class name those kinds carry for a plain "not executed" or
     * "outcome unknown".
     */
    private static WireError asAnEarlierMemberReadsIt(WireError error, Class<?> typeItKnows) {
        WireErrorLayout layout = WireErrorLayout.of(error);
        return new WireErrorLayout(layout.kind(), typeItKnows.getName(), layout.message(), layout.text1(),
                layout.text2(), layout.number1(), layout.number2()).error();
    }

    @Test
    void a_closed_store_that_stored_nothing_arrives_as_a_closed_store_that_stored_nothing() {
        WireError error = throughTheWire(ErrorCodec.encode(new EventStoreClosedException(
                "closed (injected): nothing was read or stored", null), COMMAND_ID));

        RuntimeException decoded = ErrorCodec.decode(error, "node-a");

        assertThat(decoded).isExactlyInstanceOf(EventStoreClosedException.class)
                .hasMessageContaining("closed (injected): nothing was read or stored").hasMessageContaining("node-a");
        assertThat(((EventStoreClosedException) decoded).mayHaveBeenStored()).isFalse();
    }

    @Test
    void a_closed_store_that_may_have_stored_the_append_arrives_saying_so() {
        WireError error = throughTheWire(ErrorCodec.encode(new CompletionException(new EventStoreClosedException(
                "closed while writing (injected)", null, true)), COMMAND_ID));

        RuntimeException decoded = ErrorCodec.decode(error, "node-a");

        assertThat(decoded).isExactlyInstanceOf(EventStoreClosedException.class)
                .hasMessageContaining("closed while writing (injected)").hasMessageContaining("node-a");
        assertThat(((EventStoreClosedException) decoded).mayHaveBeenStored()).isTrue();
    }

    @Test
    void an_earlier_member_reads_a_closed_store_that_stored_nothing_as_not_executed_under_the_command_id() {
        WireError error = ErrorCodec.encode(new EventStoreClosedException("closed (injected)", null), COMMAND_ID);

        assertThat(WireErrorLayout.of(error)).as("the layout of a plain 'not executed'")
                .extracting(WireErrorLayout::kind, WireErrorLayout::text1)
                .containsExactly(WireErrorLayout.NOT_EXECUTED, COMMAND_ID);
        RuntimeException read = ErrorCodec.decode(asAnEarlierMemberReadsIt(error, CommandNotExecutedException.class),
                "node-a");
        assertThat(read).isExactlyInstanceOf(CommandNotExecutedException.class)
                .hasMessageContaining("closed (injected)");
        assertThat(((CommandNotExecutedException) read).commandId()).isEqualTo(COMMAND_ID);
    }

    @Test
    void an_earlier_member_reads_a_closed_store_that_may_have_stored_it_as_outcome_unknown_under_the_command_id() {
        WireError error = ErrorCodec.encode(new EventStoreClosedException("closed while writing (injected)", null,
                true), COMMAND_ID);

        assertThat(WireErrorLayout.of(error)).as("the layout of a plain 'outcome unknown'")
                .extracting(WireErrorLayout::kind, WireErrorLayout::text1)
                .containsExactly(WireErrorLayout.OUTCOME_UNKNOWN, COMMAND_ID);
        RuntimeException read = ErrorCodec.decode(asAnEarlierMemberReadsIt(error,
                CommandOutcomeUnknownException.class), "node-a");
        assertThat(read).isExactlyInstanceOf(CommandOutcomeUnknownException.class)
                .hasMessageContaining("closed while writing (injected)");
        assertThat(((CommandOutcomeUnknownException) read).commandId()).isEqualTo(COMMAND_ID);
    }

    @Test
    void a_plain_not_executed_or_outcome_unknown_and_other_store_failures_arrive_as_before() {
        assertThat(ErrorCodec.decode(ErrorCodec.encode(new CommandNotExecutedException("dropped", COMMAND_ID),
                "other-id"), "node-a")).isExactlyInstanceOf(CommandNotExecutedException.class)
                .extracting(e -> ((CommandNotExecutedException) e).commandId()).isEqualTo(COMMAND_ID);
        assertThat(ErrorCodec.decode(ErrorCodec.encode(new CommandOutcomeUnknownException("late", COMMAND_ID),
                "other-id"), "node-a")).isExactlyInstanceOf(CommandOutcomeUnknownException.class)
                .extracting(e -> ((CommandOutcomeUnknownException) e).commandId()).isEqualTo(COMMAND_ID);
        assertThat(ErrorCodec.decode(ErrorCodec.encode(new EventStoreException("connection lost", null), COMMAND_ID),
                "node-a")).isExactlyInstanceOf(EventStoreException.class);
    }
}
