package io.gyre.eventstore;

/**
 * Where the appended events landed in their aggregate's stream.
 *
 * @param firstSequence the sequence number of the first appended event
 * @param lastSequence  the sequence number of the last appended event
 */
public record AppendResult(long firstSequence, long lastSequence) {

    /** Checks the range. */
    public AppendResult {
        if (firstSequence < 0 || lastSequence < firstSequence) {
            throw new IllegalArgumentException("bad sequence range " + firstSequence + ".." + lastSequence);
        }
    }
}
