package io.gyre.testmodel;

import io.gyre.command.TargetAggregateId;

/** Commands of the {@link Counter} test aggregate. */
public final class CounterCommands {

    private CounterCommands() {
    }

    /** @param id the counter */
    public record CreateCounter(@TargetAggregateId String id) {
    }

    /**
     * @param id     the counter
     * @param amount what to add
     */
    public record Add(@TargetAggregateId String id, long amount) {
    }

    /**
     * Applies an event, then throws.
     *
     * @param id     the counter
     * @param amount what the applied event adds
     */
    public record AddThenFail(@TargetAggregateId String id, long amount) {
    }

    /** @param id the counter; the handler applies an event whose type nobody registered */
    public record ApplyUnregistered(@TargetAggregateId String id) {
    }

    /** @param id possibly null */
    public record AddNullable(@TargetAggregateId String id) {
    }

    /** Adds one and returns a result of an unregistered type. @param id the counter */
    public record AddReturningUnregistered(@TargetAggregateId String id) {
    }

    /**
     * Adds only while the total stays at most the limit; refuses otherwise.
     *
     * @param id     the counter
     * @param amount what to add
     * @param limit  the highest total allowed
     */
    public record AddAtMost(@TargetAggregateId String id, long amount, long limit) {
    }

    /** A command no aggregate handles. @param id the counter */
    public record Unhandled(@TargetAggregateId String id) {
    }

    /** A command type without a target id member. @param amount anything */
    public record NoTarget(long amount) {
    }
}
