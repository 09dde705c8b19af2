package io.gyre.processing;

/**
 * What a retry of dead letters did.
 *
 * @param handled   letters whose handlers succeeded this time, now removed
 * @param remaining letters still in the store: they failed again, or wait behind one of their aggregate that did,
 *                  or belong to segments another node runs
 */
public record DeadLetterRetry(int handled, int remaining) {

    /** Checks the counts. */
    public DeadLetterRetry {
        if (handled < 0 || remaining < 0) {
            throw new IllegalArgumentException("counts must be 0 or more, but were " + handled + " and " + remaining);
        }
    }
}
