package io.gyre.processing;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * What a processor does when a handler throws: it calls the handler again with the same event, after a back-off
 * that doubles from {@link #initialBackoff()} up to {@link #maxBackoff()} (less up to half at random, so that
 * segments that failed together do not retry together), up to {@link #attempts()} calls in all; then it takes the
 * {@link #then() final action}:
 * <ul>
 *   <li>{@link Action#STOP_SEGMENT}: the segment stops at that event; its token stays just before it, its status says
 *       which event failed and why, and {@link Processors#resume(String)} tries it again. The other segments go
 *       on.</li>
 *   <li>{@link Action#DEAD_LETTER}: the event goes to the {@link DeadLetterStore} and the segment goes on. Later
 *       events of the same aggregate follow it into the store, so no aggregate's events are ever handled out of
 *       order; {@link Processors#retryDeadLetters(String)} handles them again, in order.</li>
 * </ul>
 * A segment that waits to retry does not hold up the others. A failure that cannot go away by retrying (an event
 * whose stored JSON no longer fits its class) skips the retries. Immutable.
 */
public final class ErrorPolicy {

    /** The final action after the last attempt. */
    public enum Action {
        /** Stop the segment at the failing event. */
        STOP_SEGMENT,
        /** Put the event in the dead-letter store and go on. */
        DEAD_LETTER
    }

    private final int attempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Action then;

    private ErrorPolicy(Builder builder) {
        this.attempts = builder.attempts;
        this.initialBackoff = builder.initialBackoff;
        this.maxBackoff = builder.maxBackoff;
        this.then = builder.then;
    }

    /** @return 5 attempts, back-off from 100 ms up to 10 s, then stop the segment (the default) */
    public static ErrorPolicy stop() {
        return builder().build();
    }

    /** @return 5 attempts, back-off from 100 ms up to 10 s, then dead-letter the event and go on */
    public static ErrorPolicy deadLetter() {
        return builder().then(Action.DEAD_LETTER).build();
    }

    /** @return a builder starting from {@link #stop()} */
    public static Builder builder() {
        return new Builder();
    }

    /** @return calls of a handler with one event, the first included */
    public int attempts() {
        return attempts;
    }

    /** @return the delay before the first retry, before jitter */
    public Duration initialBackoff() {
        return initialBackoff;
    }

    /** @return the longest delay between attempts */
    public Duration maxBackoff() {
        return maxBackoff;
    }

    /** @return what happens after the last attempt */
    public Action then() {
        return then;
    }

    /**
     * @param failedAttempts the attempts made so far, 1 or more
     * @param random         the source of jitter
     * @return the delay before the next attempt
     */
    public Duration backoffAfter(int failedAttempts, RandomGenerator random) {
        if (failedAttempts < 1) {
            throw new IllegalArgumentException("failedAttempts must be 1 or more, but was " + failedAttempts);
        }
        double base = initialBackoff.toNanos() * Math.pow(2, Math.min(failedAttempts - 1, 62));
        double capped = Math.min(base, maxBackoff.toNanos());
        return Duration.ofNanos((long) (capped * (1 - 0.5 * random.nextDouble())));
    }

    @Override
    public String toString() {
        return "ErrorPolicy[" + attempts + " attempts, back-off " + initialBackoff + " to " + maxBackoff + ", then "
                + then + "]";
    }

    /** Builds an {@link ErrorPolicy}; each setter checks its value at once. Not thread-safe. */
    public static final class Builder {

        private int attempts = 5;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private Action then = Action.STOP_SEGMENT;

        private Builder() {
        }

        /**
         * @param attempts calls of a handler with one event, the first included, 1 to 1000 (default 5)
         * @return this builder
         */
        public Builder attempts(int attempts) {
            if (attempts < 1 || attempts > 1000) {
                throw new IllegalArgumentException("attempts must be between 1 and 1000, but was " + attempts);
            }
            this.attempts = attempts;
            return this;
        }

        /**
         * @param initial the delay before the first retry, 0 to 1 hour (default 100 ms)
         * @param max     the longest delay, from {@code initial} to 1 hour (default 10 s)
         * @return this builder
         */
        public Builder backoff(Duration initial, Duration max) {
            Objects.requireNonNull(initial, "initial");
            Objects.requireNonNull(max, "max");
            if (initial.isNegative() || max.compareTo(Duration.ofHours(1)) > 0 || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff needs 0 <= initial <= max <= 1 hour, but was initial "
                        + initial + " and max " + max);
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * @param then what happens after the last attempt (default {@link Action#STOP_SEGMENT})
         * @return this builder
         */
        public Builder then(Action then) {
            this.then = Objects.requireNonNull(then, "then");
            return this;
        }

        /** @return the policy */
        public ErrorPolicy build() {
            return new ErrorPolicy(this);
        }
    }
}
