package io.gyre.eventstore;

/**
 * What an append expects the aggregate's last stored sequence number to be. Sequence numbers start at 0, so
 * an aggregate with no events has "no stream".
 */
public sealed interface ExpectedSequence {

    /** @return the check that passes whatever is stored; the store appends after the current last event */
    static ExpectedSequence any() {
        return Any.INSTANCE;
    }

    /** @return the check that passes only when the aggregate has no events yet */
    static ExpectedSequence noStream() {
        return NoStream.INSTANCE;
    }

    /**
     * @param lastSequence the sequence number of the last event the writer saw; -1 means no stream
     * @return the check that passes only when that is still the last event
     * @throws IllegalArgumentException when lastSequence is below -1
     */
    static ExpectedSequence exactly(long lastSequence) {
        return lastSequence == -1 ? NoStream.INSTANCE : new Exactly(lastSequence);
    }

    /**
     * @param actualLastSequence the last stored sequence number, -1 when there is none
     * @return true when an append may go ahead
     */
    boolean matches(long actualLastSequence);

    /** @return the last sequence number this check expects, or -1 for no stream; {@link Any} answers -2 */
    long lastSequence();

    /** Passes whatever is stored. */
    enum Any implements ExpectedSequence {
        /** The one instance. */
        INSTANCE;

        @Override
        public boolean matches(long actualLastSequence) {
            return true;
        }

        @Override
        public long lastSequence() {
            return -2;
        }

        @Override
        public String toString() {
            return "any";
        }
    }

    /** Passes only when the aggregate has no events. */
    enum NoStream implements ExpectedSequence {
        /** The one instance. */
        INSTANCE;

        @Override
        public boolean matches(long actualLastSequence) {
            return actualLastSequence == -1;
        }

        @Override
        public long lastSequence() {
            return -1;
        }

        @Override
        public String toString() {
            return "no stream";
        }
    }

    /**
     * Passes only when the last stored event has this sequence number.
     *
     * @param lastSequence the expected last sequence number, 0 or more
     */
    record Exactly(long lastSequence) implements ExpectedSequence {

        /** Checks the number. */
        public Exactly {
            if (lastSequence < 0) {
                throw new IllegalArgumentException("lastSequence must be 0 or more, but was " + lastSequence);
            }
        }

        @Override
        public boolean matches(long actualLastSequence) {
            return actualLastSequence == lastSequence;
        }

        @Override
        public String toString() {
            return "last sequence " + lastSequence;
        }
    }
}
