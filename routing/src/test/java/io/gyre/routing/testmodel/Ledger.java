package io.gyre.routing.testmodel;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.routing.testmodel.LedgerMessages.LedgerOpened;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;

/**
 * A test aggregate that records, in every event, the node that decided it and the balance it decided on.
 * Nodes are told apart by the names of their worker threads ({@code <node>-command-<n>}).
 */
@Aggregate
public class Ledger {

    @AggregateId
    private String id;
    private long balance;

    protected Ledger() {
    }

    @CommandHandler
    Ledger(OpenLedger command) {
        apply(new LedgerOpened(command.id(), node()));
    }

    @CommandHandler
    long handle(Post command) {
        OwnerProbe.ran(id, node());
        apply(new Posted(id, command.amount(), balance, node(), command.ref()));
        return balance;
    }

    @EventSourcingHandler
    void on(LedgerOpened event) {
        id = event.id();
    }

    @EventSourcingHandler
    void on(Posted event) {
        balance += event.amount();
    }

    /** @return the node whose worker thread runs the current command */
    public static String node() {
        String thread = Thread.currentThread().getName();
        int end = thread.indexOf("-command-");
        return end < 0 ? thread : thread.substring(0, end);
    }
}
