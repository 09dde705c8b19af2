package io.gyre.routing.testmodel;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;
import io.gyre.routing.testmodel.LedgerMessages.LedgerOpened;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;

/**
 * The next version of {@link Ledger}: the same aggregate type and events, and one more command, {@link Debit},
 * which refuses to take the balance below zero. Nodes running it and nodes still running {@link Ledger} form one
 * cluster during a rolling upgrade. Every command reports to {@link OwnerProbe}.
 */
@Aggregate(name = "Ledger")
public class UpgradedLedger {

    /**
     * @param id     the ledger
     * @param amount what to take off
     * @param ref    the client's unique reference
     */
    public record Debit(@TargetAggregateId String id, long amount, String ref) {
    }

    /** The balance is too low for a debit. */
    public static final class InsufficientBalance extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InsufficientBalance(String id, long balance, long amount) {
            super("Ledger " + id + " holds " + balance + ", less than " + amount);
        }
    }

    @AggregateId
    private String id;
    private long balance;

    protected UpgradedLedger() {
    }

    @CommandHandler
    UpgradedLedger(OpenLedger command) {
        apply(new LedgerOpened(command.id(), Ledger.node()));
    }

    @CommandHandler
    long handle(Post command) {
        OwnerProbe.ran(id, Ledger.node());
        apply(new Posted(id, command.amount(), balance, Ledger.node(), command.ref()));
        return balance;
    }

    @CommandHandler
    long handle(Debit command) {
        OwnerProbe.ran(id, Ledger.node());
        if (command.amount() > balance) {
            throw new InsufficientBalance(id, balance, command.amount());
        }
        apply(new Posted(id, -command.amount(), balance, Ledger.node(), command.ref()));
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
}
