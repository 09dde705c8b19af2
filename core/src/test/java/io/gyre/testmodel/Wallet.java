package io.gyre.testmodel;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;

/** A test aggregate whose ids may collide with {@link Counter}'s: identity is the type and the id together. */
@Aggregate(name = "wallet")
public class Wallet {

    /** @param id the wallet */
    public record OpenWallet(@TargetAggregateId String id) {
    }

    /** @param id the wallet @param amount what to spend */
    public record Spend(@TargetAggregateId String id, long amount) {
    }

    /** @param id the wallet */
    public record WalletOpened(String id) {
    }

    /** @param id the wallet @param amount what was spent */
    public record Spent(String id, long amount) {
    }

    @AggregateId
    private String id;
    private long spent;

    protected Wallet() {
    }

    @CommandHandler
    Wallet(OpenWallet command) {
        apply(new WalletOpened(command.id()));
    }

    @CommandHandler
    long handle(Spend command) {
        apply(new Spent(id, command.amount()));
        return spent;
    }

    @EventSourcingHandler
    void on(WalletOpened event) {
        id = event.id();
    }

    @EventSourcingHandler
    void on(Spent event) {
        spent += event.amount();
    }
}
