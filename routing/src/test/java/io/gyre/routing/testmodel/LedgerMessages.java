package io.gyre.routing.testmodel;

import io.gyre.command.TargetAggregateId;

/** Commands and events of the {@link Ledger} test aggregate. */
public final class LedgerMessages {

    private LedgerMessages() {
    }

    /** @param id the ledger */
    public record OpenLedger(@TargetAggregateId String id) {
    }

    /**
     * @param id     the ledger
     * @param amount what to post
     * @param ref    the client's unique reference, stored in the event, so a checker can match events to sends
     */
    public record Post(@TargetAggregateId String id, long amount, String ref) {
    }

    /**
     * @param id   the ledger
     * @param node the node that ran the command
     */
    public record LedgerOpened(String id, String node) {
    }

    /**
     * A posting, with the balance the handler decided on, so a checker can tell whether it saw the latest state.
     *
     * @param id            the ledger
     * @param amount        the amount posted
     * @param balanceBefore the balance the handler saw
     * @param node          the node that ran the command
     * @param ref           the client's reference of the command
     */
    public record Posted(String id, long amount, long balanceBefore, String node, String ref) {
    }
}
