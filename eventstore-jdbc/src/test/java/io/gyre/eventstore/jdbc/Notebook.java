package io.gyre.eventstore.jdbc;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;

/** A test aggregate created with text of any length in its first event: for input too large for the store. */
@Aggregate(name = "notebook")
public class Notebook {

    /** @param id the notebook to create @param text what to write in it */
    public record Write(@TargetAggregateId String id, String text) {
    }

    /** @param id the notebook @param text what was written */
    public record Written(String id, String text) {
    }

    @AggregateId
    private String id;

    protected Notebook() {
    }

    @CommandHandler
    Notebook(Write command) {
        apply(new Written(command.id(), command.text()));
    }

    @EventSourcingHandler
    void on(Written event) {
        id = event.id();
    }
}
