package io.gyre.examples.bank;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;

/** A bank account: its balance never goes below zero. */
@Aggregate
public class Account {

    @AggregateId
    private String id;
    private String owner;
    private long balance;

    /** For sourcing from events. */
    protected Account() {
    }

    @CommandHandler
    Account(OpenAccount command) {
        if (command.owner().isBlank()) {
            throw new IllegalArgumentException("An account needs an owner");
        }
        apply(new AccountOpened(command.accountId(), command.owner()));
    }

    @CommandHandler
    long handle(Deposit command) {
        requirePositive(command.amount());
        apply(new Deposited(id, command.amount()));
        return balance;
    }

    @CommandHandler
    long handle(Withdraw command) {
        requirePositive(command.amount());
        if (command.amount() > balance) {
            throw new InsufficientFundsException(id, balance, command.amount());
        }
        apply(new Withdrawn(id, command.amount()));
        return balance;
    }

    @EventSourcingHandler
    void on(AccountOpened event) {
        id = event.accountId();
        owner = event.owner();
    }

    @EventSourcingHandler
    void on(Deposited event) {
        balance += event.amount();
    }

    @EventSourcingHandler
    void on(Withdrawn event) {
        balance -= event.amount();
    }

    /** @return the account id */
    public String id() {
        return id;
    }

    /** @return who owns the account */
    public String owner() {
        return owner;
    }

    /** @return the balance in cents */
    public long balance() {
        return balance;
    }

    private static void requirePositive(long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("Amount must be positive, but was " + amount);
        }
    }
}
