package io.gyre.processing;

import java.time.Instant;
import java.util.Objects;

/**
 * A tracking processor's reader on this node cannot read the global log: the event store is unreachable, or it
 * refuses to read (a database restored under the processor, {@code GlobalLogRestoredException} on PostgreSQL). The
 * reader keeps trying with a back-off of up to 5 seconds; until a read succeeds, nothing new reaches the segments, so
 * the processor is not {@linkplain ProcessorStatus#caughtUp() caught up} however its segments look.
 *
 * @param cause    the last failure: its class and message
 * @param since    when the reads began to fail
 * @param failures failed reads in a row
 */
public record LogReadFailure(String cause, Instant since, int failures) {

    /** Checks every part. */
    public LogReadFailure {
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(since, "since");
        if (failures < 1) {
            throw new IllegalArgumentException("failures must be 1 or more, but was " + failures);
        }
    }
}
