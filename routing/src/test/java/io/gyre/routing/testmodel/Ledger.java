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

    /** The node a client thread is calling through, for a command its caller runs (see {@link #callingThrough}). */
    private static final ThreadLocal<String> CALLING_THROUGH = new ThreadLocal<>();

    /**
     * @return the node that runs the current command: named by its worker thread, or, when a caller waiting in
     *         {@code sendAndWait} runs its own command on its own thread, the node it called through
     */
    public static String node() {
        String thread = Thread.currentThread().getName();
        int end = thread.indexOf("-command-");
        if (end >= 0) {
            return thread.substring(0, end);
        }
        String calling = CALLING_THROUGH.get();
        return calling != null ? calling : thread;
    }

    /**
     * Runs a call through a node's gateway, so that a command the calling thread runs itself (its node owns the
     * ledger) is credited to that node.
     *
     * @param node the node's name
     * @param call the call
     */
    public static void callingThrough(String node, Runnable call) {
        CALLING_THROUGH.set(node);
        try {
            call.run();
        } finally {
            CALLING_THROUGH.remove();
        }
    }
}
