package io.gyre.processing;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gives this node every segment of every processor: the ownership of a node that runs alone. The epoch of every
 * segment is {@link SegmentEpoch#ofNodeAlone} of the time at which this object was made, so a node started later
 * takes the segments over from an earlier run, whether that run was a node alone or a cluster (or from a second node
 * started by mistake against the same token store, which its token store then fences: the older one's segments show
 * {@link SegmentState#FENCED}).
 *
 * <p>The clock alone is not trusted: told the highest epoch stored for a processor ({@link #startAbove}, which the
 * node calls before following it), the node takes an epoch above it when its start does not outrank it already (a
 * clock set back behind an earlier run's, an earlier run whose clock ran ahead, a restored store); see
 * {@link SegmentEpoch#ofNodeAlone(Instant, long)}. A refusal later on ({@link #claimRefused}) changes nothing: a node
 * alone is refused only by an owner that started after it, which is meant to win.
 */
public final class LocalSegmentOwnership implements SegmentOwnership {

    private final String owner;
    private final Instant start;
    private final long epoch;
    /** The highest epoch stored for each processor, as told before following it. */
    private final Map<String, Long> stored = new ConcurrentHashMap<>();

    /**
     * @param owner this node's name as a segment owner
     * @param clock the clock whose current time becomes the epoch
     */
    public LocalSegmentOwnership(String owner, Clock clock) {
        this.owner = checkOwner(owner);
        this.start = Objects.requireNonNull(clock, "clock").instant();
        this.epoch = SegmentEpoch.ofNodeAlone(start);
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

    /**
     * @return the epoch of every segment this node owns, from its start; a processor whose token store already held
     *         an epoch at least as high is given one above that instead ({@link #startAbove})
     */
    public long epoch() {
        return epoch;
    }

    @Override
    public void startAbove(String processor, long storedEpoch) {
        stored.merge(Objects.requireNonNull(processor, "processor"), storedEpoch, Math::max);
    }

    @Override
    public Registration follow(String processor, int segments, Listener listener) {
        Objects.requireNonNull(processor, "processor");
        Objects.requireNonNull(listener, "listener");
        if (segments < 1) {
            throw new IllegalArgumentException("segments must be 1 or more, but was " + segments);
        }
        long processorEpoch = SegmentEpoch.ofNodeAlone(start, stored.getOrDefault(processor, 0L));
        Map<Integer, Long> all = new HashMap<>();
        for (int segment = 0; segment < segments; segment++) {
            all.put(segment, processorEpoch);
        }
        listener.ownedSegmentsChanged(new OwnedSegments(processor, all));
        return () -> { };
    }

    @Override
    public String toString() {
        return "LocalSegmentOwnership[" + owner + ", epoch " + epoch + "]";
    }
}
