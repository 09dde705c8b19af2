package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.routing.jgroups.internal.WireMessage.WireError;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.AlreadyExists;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.Conflict;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.Handler;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.Known;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.NotExecuted;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.NotFound;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.NotOwner;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.OutcomeUnknown;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.StoreClosed;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every wire error keeps the layout members of earlier versions read (kind numbers and the fields each kind uses,
 * unchanged since errors had one generic record), and comes back equal through the wire.
 */
class WireErrorLayoutTest {

    private static final List<WireError> EVERY_KIND = List.of(
            new Conflict("conflict", "Ledger", "l-1", 3, 5),
            new NotOwner("not here", 12),
            new NotExecuted("dropped", "cmd-1"),
            new OutcomeUnknown("late", "cmd-2"),
            new StoreClosed("closed", "cmd-3", false),
            new StoreClosed("closed while writing", "cmd-4", true),
            new NotFound("no such ledger", "Ledger", "l-2"),
            new AlreadyExists("exists", "Ledger", "l-3"),
            new Known("io.gyre.eventstore.EventStoreException", "connection lost"),
            new Handler("com.example.InsufficientFunds", "balance 3, asked 5"));

    @Test
    void every_error_comes_back_equal_through_the_wire() {
        for (WireError error : EVERY_KIND) {
            Reply reply = (Reply) WireFormat.decodeOne(WireFormat.encode(new Reply(1, null, error)));
            assertThat(reply.error()).isEqualTo(error);
        }
    }

    @Test
    void each_kind_keeps_the_number_and_fields_earlier_members_read() {
        assertThat(EVERY_KIND).extracting(WireErrorLayout::of).extracting(WireErrorLayout::kind)
                .containsExactly(1, 8, 6, 7, 6, 7, 2, 3, 4, 5);
        assertThat(WireErrorLayout.of(new Conflict("conflict", "Ledger", "l-1", 3, 5)))
                .isEqualTo(new WireErrorLayout(1, "io.gyre.eventstore.ConcurrencyConflictException", "conflict",
                        "Ledger", "l-1", 3, 5));
        assertThat(WireErrorLayout.of(new NotOwner("not here", 12)))
                .isEqualTo(new WireErrorLayout(8, "io.gyre.routing.NotOwnerException", "not here", "", "", 12, 0));
        assertThat(WireErrorLayout.of(new OutcomeUnknown("late", "cmd-2")))
                .isEqualTo(new WireErrorLayout(7, "io.gyre.command.CommandOutcomeUnknownException", "late", "cmd-2",
                        "", 0, 0));
        assertThat(WireErrorLayout.of(new StoreClosed("closed", "cmd-3", false)))
                .isEqualTo(new WireErrorLayout(6, "io.gyre.eventstore.EventStoreClosedException", "closed", "cmd-3",
                        "", 0, 0));
        assertThat(WireErrorLayout.of(new NotFound("no such ledger", "Ledger", "l-2")))
                .isEqualTo(new WireErrorLayout(2, "io.gyre.aggregate.AggregateNotFoundException", "no such ledger",
                        "Ledger", "l-2", 0, 0));
        assertThat(WireErrorLayout.of(new Handler("com.example.InsufficientFunds", "balance 3, asked 5")))
                .isEqualTo(new WireErrorLayout(5, "com.example.InsufficientFunds", "balance 3, asked 5", "", "", 0,
                        0));
    }

    @Test
    void a_kind_this_member_does_not_know_is_read_as_a_handlers_failure() {
        assertThat(new WireErrorLayout(99, "io.gyre.Future", "from a later version", "x", "y", 1, 2).error())
                .isEqualTo(new Handler("io.gyre.Future", "from a later version"));
    }
}
