package io.gyre.command;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How a command that failed with a {@link io.gyre.GyreTransientException transient} failure is retried:
 * exponential back-off with jitter until the command's deadline, which is what bounds retrying (a maximum number of
 * attempts is available too, but off by default: whether a burst succeeds should depend on the deadline the caller
 * chose, not on how fast the machine is). Non-transient failures and exceptions from command handlers are never
 * retried. A concurrency conflict or a failure of the event store is not retried here at all: the owner retries it
 * in place, on fresh state, so that the aggregate's later commands cannot overtake it. A closed event store
 * ({@link io.gyre.eventstore.EventStoreClosedException}) is retried by neither: the command is answered at once.
 * Immutable.
 *
 * <p>The delay before attempt {@code n + 1} is {@code min(maxBackoff, initialBackoff * multiplier^(n-1))},
 * reduced by a random fraction of up to {@code jitter} of itself, so that clients that failed together do not
 * retry together.
 */
public final class RetryPolicy {

    private static final RetryPolicy DEFAULTS = builder().build();
    private static final RetryPolicy NONE = builder().maxAttempts(1).build();

    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final double multiplier;
    private final double jitter;

    private RetryPolicy(Builder builder) {
        this.maxAttempts = builder.maxAttempts;
        this.initialBackoff = builder.initialBackoff;
        this.maxBackoff = builder.maxBackoff;
        this.multiplier = builder.multiplier;
        this.jitter = builder.jitter;
    }

    /** Stands for "no limit" in {@link #maxAttempts()}: retries stop at the deadline only. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    /**
     * @return retries until the deadline, back-off from 10 ms doubling up to 500 ms, jitter 0.5
     */
    public static RetryPolicy defaults() {
        return DEFAULTS;
    }

    /** @return one attempt, no retry */
    public static RetryPolicy none() {
        return NONE;
    }

    /** @return a builder starting from the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the most attempts in all, the first included; {@link #UNLIMITED} when only the deadline counts */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** @return the delay before the first retry, before jitter */
    public Duration initialBackoff() {
        return initialBackoff;
    }

    /** @return the longest delay between attempts */
    public Duration maxBackoff() {
        return maxBackoff;
    }

    /** @return the factor by which the delay grows per attempt */
    public double multiplier() {
        return multiplier;
    }

    /** @return the largest fraction by which a delay is randomly shortened */
    public double jitter() {
        return jitter;
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
        double base = initialBackoff.toNanos() * Math.pow(multiplier, failedAttempts - 1);
        double capped = Math.min(base, maxBackoff.toNanos());
        double jittered = capped * (1 - jitter * random.nextDouble());
        return Duration.ofNanos((long) jittered);
    }

    @Override
    public String toString() {
        return "RetryPolicy[maxAttempts=" + (maxAttempts == UNLIMITED ? "until the deadline" : maxAttempts) + ", initialBackoff=" + initialBackoff + ", maxBackoff="
                + maxBackoff + ", multiplier=" + multiplier + ", jitter=" + jitter + "]";
    }

    /** Builds a {@link RetryPolicy}; each setter checks its value at once. */
    public static final class Builder {

        private int maxAttempts = UNLIMITED;
        private Duration initialBackoff = Duration.ofMillis(10);
        private Duration maxBackoff = Duration.ofMillis(500);
        private double multiplier = 2.0;
        private double jitter = 0.5;

        private Builder() {
        }

        /**
         * @param maxAttempts attempts in all, the first included, 1 or more; {@link #UNLIMITED} (the default) retries
         *                    until the deadline. When the last attempt fails with a transient failure while it may
         *                    have run (its member left while running it, a store failure after the append was sent),
         *                    the caller gets a {@link CommandOutcomeUnknownException} with that failure as its cause,
         *                    not the failure alone: send it again under its command id to learn its outcome. A
         *                    transient failure of an attempt that did not run (not the owner) is passed on as it is.
         * @return this builder
         */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be 1 or more, but was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * @param initialBackoff delay before the first retry, 0 to 1 minute
         * @return this builder
         */
        public Builder initialBackoff(Duration initialBackoff) {
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            if (initialBackoff.isNegative() || initialBackoff.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("initialBackoff must be between 0 and 1 minute, but was "
                        + initialBackoff);
            }
            this.initialBackoff = initialBackoff;
            return this;
        }

        /**
         * @param maxBackoff the longest delay between attempts, 0 to 10 minutes
         * @return this builder
         */
        public Builder maxBackoff(Duration maxBackoff) {
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            if (maxBackoff.isNegative() || maxBackoff.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("maxBackoff must be between 0 and 10 minutes, but was "
                        + maxBackoff);
            }
            this.maxBackoff = maxBackoff;
            return this;
        }

        /**
         * @param multiplier growth of the delay per attempt, 1 to 10
         * @return this builder
         */
        public Builder multiplier(double multiplier) {
            if (!(multiplier >= 1 && multiplier <= 10)) {
                throw new IllegalArgumentException("multiplier must be between 1 and 10, but was " + multiplier);
            }
            this.multiplier = multiplier;
            return this;
        }

        /**
         * @param jitter the largest random fraction taken off a delay, 0 to 1
         * @return this builder
         */
        public Builder jitter(double jitter) {
            if (!(jitter >= 0 && jitter <= 1)) {
                throw new IllegalArgumentException("jitter must be between 0 and 1, but was " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        /**
         * @return the policy
         * @throws IllegalArgumentException when maxBackoff is below initialBackoff
         */
        public RetryPolicy build() {
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("maxBackoff (" + maxBackoff + ") must not be below initialBackoff ("
                        + initialBackoff + ")");
            }
            return new RetryPolicy(this);
        }
    }
}
