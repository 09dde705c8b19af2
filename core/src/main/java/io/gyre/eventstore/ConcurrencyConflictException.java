package io.gyre.eventstore;

import io.gyre.GyreTransientException;
import org.jspecify.annotations.Nullable;

/**
 * An append found another writer's events where it expected to write: the writer decided on stale state.
 * Transient: the command is retried on freshly loaded state.
 */
public class ConcurrencyConflictException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    private final StreamId stream;
    private final long expectedSequence;
    private final long actualSequence;

    /**
     * @param stream           the aggregate written
     * @param expectedSequence the last sequence number the writer expected, -1 for no stream
     * @param actualSequence   the last sequence number actually stored, -1 for none, or
     *                         {@link #UNKNOWN} when the store could not tell
     */
    public ConcurrencyConflictException(StreamId stream, long expectedSequence, long actualSequence) {
        this(stream, expectedSequence, actualSequence, null);
    }

    /**
     * @param stream           the aggregate written
     * @param expectedSequence the last sequence number the writer expected, -1 for no stream
     * @param actualSequence   the last sequence number actually stored, or {@link #UNKNOWN}
     * @param cause            the store's own error, such as a duplicate-key violation
     */
    public ConcurrencyConflictException(StreamId stream, long expectedSequence, long actualSequence,
                                        @Nullable Throwable cause) {
        super("Concurrency conflict on " + stream + ": expected last sequence "
                + describe(expectedSequence) + " but found " + describe(actualSequence), cause);
        this.stream = stream;
        this.expectedSequence = expectedSequence;
        this.actualSequence = actualSequence;
    }

    /** The actual sequence number when a store cannot tell it. */
    public static final long UNKNOWN = Long.MIN_VALUE;

    private static String describe(long sequence) {
        if (sequence == UNKNOWN) {
            return "an unknown sequence";
        }
        return sequence == -1 ? "none (no stream)" : Long.toString(sequence);
    }

    /** @return the aggregate written */
    public StreamId stream() {
        return stream;
    }

    /** @return the id of the aggregate written */
    public String aggregateId() {
        return stream.aggregateId();
    }

    /** @return the last sequence number the writer expected, -1 for no stream */
    public long expectedSequence() {
        return expectedSequence;
    }

    /** @return the last sequence number stored, -1 for none, {@link #UNKNOWN} when the store could not tell */
    public long actualSequence() {
        return actualSequence;
    }
}
