package io.gyre.eventstore.jdbc;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;
import io.gyre.serialization.Revision;
import io.gyre.serialization.TypeName;
import java.util.ArrayList;
import java.util.List;

/**
 * A test aggregate whose state is more than a number (a list of records), so that a snapshot has some shape, and
 * whose deposit event is at revision 2: revision 0 held the amount as a decimal string, revision 1 in cents, and
 * revision 2 added the currency.
 */
@Aggregate
public class Ledger {

    @AggregateId
    private String id;
    private long balance;
    private final List<Entry> lastEntries = new ArrayList<>();

    protected Ledger() {
    }

    @CommandHandler
    Ledger(Open command) {
        apply(new Opened(command.id()));
    }

    @CommandHandler
    long handle(Deposit command) {
        apply(new Deposited(command.id(), command.cents(), "EUR"));
        return balance;
    }

    @CommandHandler
    long handle(Balance command) {
        return balance;
    }

    @EventSourcingHandler
    void on(Opened event) {
        id = event.id();
    }

    @EventSourcingHandler
    void on(Deposited event) {
        balance += event.cents();
        lastEntries.add(new Entry(event.cents(), event.currency()));
        if (lastEntries.size() > 3) {
            lastEntries.remove(0);
        }
    }

    /** One of the last deposits. */
    record Entry(long cents, String currency) {
    }

    /** Opens a ledger. */
    public record Open(@TargetAggregateId String id) {
    }

    /** Deposits an amount in cents; returns the balance after it. */
    public record Deposit(@TargetAggregateId String id, long cents) {
    }

    /** Returns the balance, storing nothing. */
    public record Balance(@TargetAggregateId String id) {
    }

    /** A ledger was opened. */
    @TypeName("ledger.Opened")
    public record Opened(String id) {
    }

    /** An amount was deposited. */
    @TypeName("ledger.Deposited")
    @Revision(2)
    public record Deposited(String id, long cents, String currency) {
    }
}
