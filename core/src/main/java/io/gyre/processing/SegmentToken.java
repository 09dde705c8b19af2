package io.gyre.processing;

import io.gyre.eventstore.TrackingToken;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One segment's row in a {@link TokenStore}: how far it has handled the global log, and who holds it.
 *
 * @param processor the processor's name
 * @param segment   the segment, from 0
 * @param token     everything at or before this token has been handled
 * @param owner     the node holding the segment, null when none has claimed it or the last owner released it
 * @param epoch     the epoch of the last claim, 0 before the first
 * @param updatedAt when the row last changed, null if the store does not know
 */
public record SegmentToken(String processor, int segment, TrackingToken token, @Nullable String owner, long epoch,
                           @Nullable Instant updatedAt) {

    /** Checks every part. */
    public SegmentToken {
        Objects.requireNonNull(processor, "processor");
        Objects.requireNonNull(token, "token");
        if (segment < 0 || epoch < 0) {
            throw new IllegalArgumentException("segment and epoch must be 0 or more, but were " + segment + " and "
                    + epoch);
        }
    }
}
