package io.gyre.examples.chaos;

import java.util.List;

/**
 * What a chaos run did and what the checker found in the store.
 *
 * @param acked             commands clients saw acknowledged
 * @param refused           withdrawals refused for lack of funds (a business answer, not a failure)
 * @param failed            commands clients gave up on, or that got an unexpected error
 * @param retried           re-sends with the same idempotency key after an unknown outcome
 * @param maxStallMillis    the longest any client waited for one command, re-sends included
 * @param killStallMillis   the longest wait of a command in progress around the kill -9
 * @param stopStallMillis   the longest wait around the graceful stop
 * @param dbStallMillis     the longest wait around the database outage
 * @param lost              acknowledged commands not found in the store
 * @param duplicated        commands stored more than once
 * @param unknown           stored commands no client sent
 * @param gaps              streams whose sequence numbers are not contiguous
 * @param negative          events after which a balance was below zero
 * @param conserved         whether the total of all balances equals the money deposited at the start
 * @param events            events read by the checker
 * @param details           the run's timeline and every problem found
 */
public record ChaosReport(long acked, long refused, long failed, long retried, long maxStallMillis,
                          long killStallMillis, long stopStallMillis, long dbStallMillis, long lost, long duplicated,
                          long unknown, long gaps, long negative, boolean conserved, long events,
                          List<String> details) {

    /** @return true when no invariant is broken and no client gave up */
    public boolean clean() {
        return failed == 0 && lost == 0 && duplicated == 0 && unknown == 0 && gaps == 0 && negative == 0 && conserved;
    }

    /** @return the one-line summary */
    public String summary() {
        return String.format("chaos: commands acked=%d, refused=%d, failed=%d, retried=%d, max client stall=%d ms "
                        + "(around kill -9: %d ms, graceful stop: %d ms, database outage: %d ms), lost=%d, "
                        + "duplicated=%d, unknown=%d, gaps=%d, negative balances=%d, total conserved=%s, events=%d",
                acked, refused, failed, retried, maxStallMillis, killStallMillis, stopStallMillis, dbStallMillis, lost,
                duplicated, unknown, gaps, negative, conserved, events);
    }
}
