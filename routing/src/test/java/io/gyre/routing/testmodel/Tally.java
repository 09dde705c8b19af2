package io.gyre.routing.testmodel;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;

/** A second test aggregate, which only some nodes of a cluster run; its events record the node that decided them. */
@Aggregate
public class Tally {

    /** @param id the tally */
    public record Count(@TargetAggregateId String id) {
    }

    /**
     * @param id   the tally
     * @param node the node that counted
     */
    public record Counted(String id, String node) {
    }

    @AggregateId
    private String id;
    private long count;

    protected Tally() {
    }

    @CommandHandler
    Tally(Count command) {
        apply(new Counted(command.id(), Ledger.node()));
    }

    @EventSourcingHandler
    void on(Counted event) {
        id = event.id();
        count++;
    }
}
