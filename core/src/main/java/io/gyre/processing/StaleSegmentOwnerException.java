package io.gyre.processing;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * A token store refused a claim or a token update of a segment because another owner holds it under a newer (or
 * the same) epoch: the caller's ownership is stale. This is the fencing that keeps two owners from both advancing
 * one segment, whatever they believe about the cluster. Non-transient for the caller: retrying the same update
 * cannot succeed; the segment belongs to someone else now.
 */
public class StaleSegmentOwnerException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final String processor;
    private final int segment;
    private final String owner;
    private final long epoch;
    private final @Nullable String storedOwner;
    private final long storedEpoch;

    /**
     * @param processor   the processor
     * @param segment     the segment
     * @param owner       the owner that was refused
     * @param epoch       the epoch it presented
     * @param storedOwner the owner the store holds, null when none
     * @param storedEpoch the epoch the store holds
     */
    public StaleSegmentOwnerException(String processor, int segment, String owner, long epoch,
                                      @Nullable String storedOwner, long storedEpoch) {
        super("Segment " + segment + " of processor '" + processor + "' is held by " + (storedOwner == null
                ? "no owner" : "'" + storedOwner + "'") + " at epoch " + storedEpoch + ", so '" + owner
                + "' at epoch " + epoch + " may no longer claim or advance it; its ownership is stale");
        this.processor = processor;
        this.segment = segment;
        this.owner = owner;
        this.epoch = epoch;
        this.storedOwner = storedOwner;
        this.storedEpoch = storedEpoch;
    }

    /** @return the processor */
    public String processor() {
        return processor;
    }

    /** @return the segment */
    public int segment() {
        return segment;
    }

    /** @return the owner that was refused */
    public String owner() {
        return owner;
    }

    /** @return the epoch it presented */
    public long epoch() {
        return epoch;
    }

    /** @return the owner the store holds, null when none */
    public @Nullable String storedOwner() {
        return storedOwner;
    }

    /** @return the epoch the store holds */
    public long storedEpoch() {
        return storedEpoch;
    }
}
