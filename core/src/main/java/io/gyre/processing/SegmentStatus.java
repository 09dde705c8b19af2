package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One segment of a processor as a node sees it.
 *
 * @param segment     the segment
 * @param state       what it is doing on this node
 * @param owner       the owner the token store holds, null when none (for a segment this node runs, itself)
 * @param epoch       the epoch of that ownership
 * @param token       how far the segment has handled the log: this node's progress for a segment it runs, else
 *                    the stored token; null for a subscribing processor
 * @param lagEvents   how many events of the global log (of every segment) lie after the token, as far as this node
 *                    has read the log; -1 when this node does not run the segment. On PostgreSQL positions
 *                    abandoned by rolled-back appends count too, so it is an upper bound there
 * @param lagTime     how much older the last event the segment handled is than the newest event this node has
 *                    read, zero when the segment is live; null when this node does not run the segment
 * @param failure     the event the segment is failing on (retrying or stopped), else null
 * @param deadLetters how many dead letters the segment has
 */
public record SegmentStatus(int segment, SegmentState state, @Nullable String owner, long epoch,
                            @Nullable TrackingToken token, long lagEvents, @Nullable Duration lagTime,
                            @Nullable SegmentFailure failure, int deadLetters) {

    /** Checks every part. */
    public SegmentStatus {
        Objects.requireNonNull(state, "state");
    }

    /** @return true when this node runs the segment */
    public boolean local() {
        return state != SegmentState.NOT_OWNED;
    }
}
