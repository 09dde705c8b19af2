package io.gyre.eventstore;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The write side of an event store. */
@FunctionalInterface
public interface AppendEvents {

    /**
     * Stores one command's decision on one aggregate, atomically: its events, numbered from the stream's last
     * sequence number plus one, and its outcome under its command id. A decision without events is stored only
     * if the stream's last sequence number is still the expected one.
     *
     * @param request the decision and the optimistic check
     * @return the sequence numbers the events got
     * @throws ConcurrencyConflictException when the stream's last sequence number is not the expected one, or
     *                                      another writer appended the same sequence numbers first
     * @throws DuplicateCommandException    when a decision of the same command id is already stored for the
     *                                      aggregate (checked before the sequence number): the first decision on
     *                                      a command id is final
     * @throws EventStoreException          when the store cannot be reached or fails; nothing was stored
     */
    AppendResult append(AppendRequest request);

    /**
     * Stores one command's decision like {@link #append}, without making the caller wait for it: a store that
     * writes for many callers at once (group commit) takes the request and answers later, so that one thread can
     * have many appends in flight and appends that are ready together share one transaction.
     *
     * <p>The future completes with what {@link #append} would return, or fails with what it would throw (the same
     * exception, not wrapped); this method itself never throws. It may complete on a thread of the store: dependent
     * stages must not block, and should hand anything slow to an executor of their own. Completing or cancelling the
     * returned future changes nothing in the store. The default runs {@link #append} on the calling thread.
     *
     * @param request the decision and the optimistic check
     * @return the sequence numbers the events got, or the failure
     */
    default CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
        try {
            return CompletableFuture.completedFuture(append(request));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Stores one command's decision for a caller that waits for it and has {@code timeLeft} until its deadline (a
     * {@code sendAndWait} caller that decided its own command). The store may write on the calling thread, which saves
     * handing the request to a thread of its own, and then bounds its wait for the database by {@code timeLeft}: a
     * write the database holds longer (a lock held by another transaction) is cancelled and rolled back, and the
     * future fails with an {@link EventStoreException} saying that nothing was stored. Or it may take the request as
     * {@link #appendAsync} does and answer later, unbounded, when it cannot write at once.
     *
     * <p>The future completes, or fails, as {@link #appendAsync}'s does; this method itself never throws. The default
     * runs {@link #append} on the calling thread, with no bound; a decorator that forwards {@link #append} should
     * forward this method too, or its delegate's bound is lost.
     *
     * @param request  the decision and the optimistic check
     * @param timeLeft how long the caller may wait, more than zero (else the future fails with an
     *                 {@link IllegalArgumentException})
     * @return the sequence numbers the events got, or the failure
     */
    default CompletableFuture<AppendResult> appendWithin(AppendRequest request, Duration timeLeft) {
        if (timeLeft == null || timeLeft.isNegative() || timeLeft.isZero()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("timeLeft must be more than zero, but "
                    + "was " + timeLeft + "; a caller whose deadline has passed has nothing to wait for"));
        }
        try {
            return CompletableFuture.completedFuture(append(request));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
