package io.gyre.eventstore;

/**
 * Where a decision landed in its aggregate's stream.
 *
 * @param firstSequence the sequence number of the first appended event; for a decision without events, the
 *                      sequence number the next event will get
 * @param lastSequence  the sequence number of the last appended event; for a decision without events, the last
 *                      sequence number it was decided on
 */
public record AppendResult(long firstSequence, long lastSequence) {

    /** Checks the range. */
    public AppendResult {
        if (firstSequence < 0 || lastSequence < firstSequence - 1) {
            throw new IllegalArgumentException("bad sequence range " + firstSequence + ".." + lastSequence);
        }
    }

    /** @return how many events were appended */
    public int eventCount() {
        return (int) (lastSequence - firstSequence + 1);
    }
}
