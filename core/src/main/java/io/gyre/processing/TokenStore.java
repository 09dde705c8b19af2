package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;
import java.util.List;

/**
 * Where tracking processors keep, per segment, how far they have handled the global log, and who holds the
 * segment: the owner's name and a fencing epoch. The store, not the nodes' view of the cluster, is the final
 * arbiter of ownership: a claim or an update that presents an older epoch than the stored one is refused with a
 * {@link StaleSegmentOwnerException}, so two nodes that both believe they own a segment (during a rebalance, or on
 * both sides of a partition) can never both advance it.
 *
 * <p>The rules every implementation keeps, atomically per row:
 * <ul>
 *   <li>{@link #claim} succeeds when the stored epoch is lower than the claimant's, or equal to it with the same
 *       owner (a repeated claim); it then stores the owner and epoch and returns the token;</li>
 *   <li>{@link #update} succeeds only when the stored owner and epoch are exactly the caller's: after any newer
 *       claim, the previous owner's updates are refused, even when the newer owner has not written a token yet;</li>
 *   <li>tokens may move backwards (a reset); the store does not order them.</li>
 * </ul>
 * Implementations are thread-safe. {@link InMemoryTokenStore} keeps tokens in the heap; {@code JdbcProcessingStore}
 * (gyre-eventstore-jdbc) in the database, with the fencing in the {@code UPDATE}'s condition.
 */
public interface TokenStore {

    /**
     * Creates the rows of a processor's segments at {@link TrackingToken#START}, unless they exist. Safe to call
     * from several nodes at once.
     *
     * @param processor the processor's name
     * @param segments  its segment count
     * @throws ProcessorDefinitionException when rows exist for another segment count: segments split the log by
     *                                      hash, so a different count would hand events to segments whose tokens
     *                                      never saw them; changing the count needs a reset of the processor
     * @throws io.gyre.GyreTransientException when the store cannot be reached
     */
    void initialize(String processor, int segments);

    /**
     * Takes a segment over for an owner at an epoch.
     *
     * @param processor the processor's name
     * @param segment   the segment
     * @param owner     the claiming node
     * @param epoch     its epoch for this segment, 1 or more
     * @return the segment's token: where the new owner continues
     * @throws StaleSegmentOwnerException when the stored epoch is newer, or equal under another owner
     * @throws io.gyre.GyreTransientException when the store cannot be reached
     */
    TrackingToken claim(String processor, int segment, String owner, long epoch);

    /**
     * Stores a segment's token, if the caller still holds the segment.
     *
     * @param processor the processor's name
     * @param segment   the segment
     * @param owner     the node that handled the events
     * @param epoch     the epoch it claimed the segment with
     * @param token     the token of the last event handled
     * @throws StaleSegmentOwnerException when the stored owner or epoch is not the caller's
     * @throws io.gyre.GyreTransientException when the store cannot be reached
     */
    void update(String processor, int segment, String owner, long epoch, TrackingToken token);

    /**
     * Lets go of a segment on a graceful stop, keeping its token and epoch: the next claimant, with a higher epoch,
     * continues there. Does nothing when the caller no longer holds it.
     *
     * @param processor the processor's name
     * @param segment   the segment
     * @param owner     the node letting go
     * @param epoch     the epoch it claimed the segment with
     */
    void release(String processor, int segment, String owner, long epoch);

    /**
     * @param processor the processor's name
     * @return the rows of its segments, ordered by segment; empty before {@link #initialize}
     */
    List<SegmentToken> tokens(String processor);
}
