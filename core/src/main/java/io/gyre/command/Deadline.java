package io.gyre.command;

import java.time.Duration;
import java.util.Objects;

/**
 * The moment by which a command must have run, on this JVM's monotonic clock ({@link System#nanoTime()}). It
 * travels with the command: across the cluster as the time remaining, so that the members' wall clocks need not
 * agree. Every node that holds a command drops it unrun once its deadline has passed, and a caller is told at the
 * deadline whether the command was {@linkplain CommandNotExecutedException not executed} or its
 * {@linkplain CommandOutcomeUnknownException outcome is unknown}.
 *
 * <p>Immutable; equal deadlines have the same nano time.
 */
public final class Deadline implements Comparable<Deadline> {

    /** The longest time a deadline may lie ahead: far enough for any command, short of overflowing nano time. */
    public static final Duration MAX_TIMEOUT = Duration.ofDays(365);

    private final long nanoTime;

    private Deadline(long nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * @param timeout how long from now, more than zero and at most {@link #MAX_TIMEOUT}
     * @return the deadline that far ahead
     * @throws IllegalArgumentException when the timeout is zero, negative or too long; the message names it
     */
    public static Deadline after(Duration timeout) {
        return new Deadline(System.nanoTime() + checkTimeout(timeout).toNanos());
    }

    /**
     * Rebuilds a deadline received as time remaining (from another member, or a client's request header). Unlike
     * {@link #after(Duration)} this accepts zero or less: such a command is already late and will be dropped.
     *
     * @param remainingNanos the time that was left when the command was sent
     * @return the deadline that far from now
     */
    public static Deadline afterNanos(long remainingNanos) {
        long capped = Math.min(remainingNanos, MAX_TIMEOUT.toNanos());
        return new Deadline(System.nanoTime() + capped);
    }

    /**
     * Checks a caller's timeout.
     *
     * @param timeout the timeout
     * @return the timeout
     * @throws IllegalArgumentException when it is zero, negative or longer than {@link #MAX_TIMEOUT}
     */
    public static Duration checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("timeout must be more than zero and at most " + MAX_TIMEOUT.toDays()
                    + " days, but was " + timeout);
        }
        return timeout;
    }

    /** @return the deadline as a {@link System#nanoTime()} value */
    public long nanoTime() {
        return nanoTime;
    }

    /** @return the nanoseconds left, zero or less once the deadline has passed */
    public long remainingNanos() {
        return nanoTime - System.nanoTime();
    }

    /** @return the time left, {@link Duration#ZERO} once the deadline has passed */
    public Duration remaining() {
        long left = remainingNanos();
        return left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
    }

    /** @return true once the deadline has passed */
    public boolean hasPassed() {
        return remainingNanos() <= 0;
    }

    /**
     * @param other another deadline
     * @return the earlier of the two
     */
    public Deadline earliest(Deadline other) {
        return compareTo(other) <= 0 ? this : other;
    }

    @Override
    public int compareTo(Deadline other) {
        // nanoTime values are compared by their difference, which stays right across a numeric overflow.
        return Long.signum(nanoTime - other.nanoTime);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Deadline deadline && deadline.nanoTime == nanoTime;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(nanoTime);
    }

    @Override
    public String toString() {
        long left = remainingNanos();
        return left <= 0 ? "Deadline[passed " + Duration.ofNanos(-left).toMillis() + " ms ago]"
                : "Deadline[in " + Duration.ofNanos(left).toMillis() + " ms]";
    }
}
