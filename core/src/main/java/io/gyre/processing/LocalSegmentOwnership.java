package io.gyre.processing;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Gives this node every segment of every processor: the ownership of a node that runs alone. The epoch of every
 * segment is {@link SegmentEpoch#ofNodeAlone} of the time at which this object was made, so a node started later
 * takes the segments over from an earlier run, whether that run was a node alone or a cluster (or from a second node
 * started by mistake against the same token store, which its token store then fences: the older one's segments show
 * {@link SegmentState#FENCED}).
 *
 * <p>Limit: the epochs rely on the clock moving forward between runs; a node whose clock was set back behind an
 * earlier run's start is fenced by that run's epoch until the clock passes it.
 */
public final class LocalSegmentOwnership implements SegmentOwnership {

    private final String owner;
    private final long epoch;

    /**
     * @param owner this node's name as a segment owner
     * @param clock the clock whose current time becomes the epoch
     */
    public LocalSegmentOwnership(String owner, Clock clock) {
        this.owner = checkOwner(owner);
        this.epoch = SegmentEpoch.ofNodeAlone(Objects.requireNonNull(clock, "clock").instant());
    }

    /**
     * @param owner a segment owner's name
     * @return the name
     * @throws IllegalArgumentException when it is blank or longer than 200 characters
     */
    static String checkOwner(String owner) {
        Objects.requireNonNull(owner, "owner");
        if (owner.isBlank() || owner.length() > 200) {
            throw new IllegalArgumentException("A segment owner's name must be 1 to 200 characters and not blank, "
                    + "but was '" + owner + "'");
        }
        return owner;
    }

    @Override
    public String owner() {
        return owner;
    }

    /** @return the epoch of every segment this node owns */
    public long epoch() {
        return epoch;
    }

    @Override
    public Registration follow(String processor, int segments, Listener listener) {
        Objects.requireNonNull(processor, "processor");
        Objects.requireNonNull(listener, "listener");
        if (segments < 1) {
            throw new IllegalArgumentException("segments must be 1 or more, but was " + segments);
        }
        Map<Integer, Long> all = new HashMap<>();
        for (int segment = 0; segment < segments; segment++) {
            all.put(segment, epoch);
        }
        listener.ownedSegmentsChanged(new OwnedSegments(processor, all));
        return () -> { };
    }

    @Override
    public String toString() {
        return "LocalSegmentOwnership[" + owner + ", epoch " + epoch + "]";
    }
}
