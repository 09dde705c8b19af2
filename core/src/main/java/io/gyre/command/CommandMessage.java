package io.gyre.command;

import io.gyre.Metadata;
import io.gyre.command.internal.TargetIdAccessor;
import io.gyre.internal.Ids;
import java.util.Objects;

/**
 * A command on its way to its handler.
 *
 * @param commandId  unique per command and kept across every retry and re-route of it, so that a command whose
 *                   events are already stored is recognised when it arrives again
 * @param payload    the command object
 * @param routingKey the target aggregate id, read from the payload's {@link TargetAggregateId} member
 * @param metadata   metadata from the sender
 * @param attempt    1 for the first delivery, more for a retry or re-route of the same command
 * @param callerChosenId true when the caller chose the command id (an idempotency key) and may have sent it
 *                   before
 *
 * <p>The owner checks the store for the command's events before running a command that
 * {@link #mayHaveRunBefore() may have run before}, so a command whose earlier delivery was stored is
 * acknowledged with its stored result instead of being decided again (a second decision could even differ:
 * a withdrawal re-run after the first one was stored may find the balance too low).
 */
public record CommandMessage(String commandId, Object payload, String routingKey, Metadata metadata, int attempt,
                             boolean callerChosenId) {

    /** Checks every part. */
    public CommandMessage {
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(routingKey, "routingKey");
        Objects.requireNonNull(metadata, "metadata");
        if (commandId.isBlank()) {
            throw new IllegalArgumentException("commandId must not be blank");
        }
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be 1 or more, but was " + attempt);
        }
    }

    /**
     * Wraps a command object with a new command id, taking the routing key from its
     * {@link TargetAggregateId} member.
     *
     * @param payload  the command
     * @param metadata metadata to send with it
     * @return the message
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate
     */
    public static CommandMessage of(Object payload, Metadata metadata) {
        Objects.requireNonNull(payload, "command");
        String routingKey = TargetIdAccessor.of(payload.getClass()).routingKey(payload);
        return new CommandMessage(Ids.newId(), payload, routingKey, metadata, 1, false);
    }

    /**
     * @param payload the command
     * @return the message, with no metadata
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate
     */
    public static CommandMessage of(Object payload) {
        return of(payload, Metadata.empty());
    }

    /**
     * Gives the command a caller-chosen id, for example an idempotency key a client sends again when it never
     * learned the outcome of its first request: a command whose events are already stored under that id is
     * acknowledged with its stored result instead of running twice.
     *
     * @param id the command id, unique per command
     * @return this command with that id
     */
    public CommandMessage withCommandId(String id) {
        return new CommandMessage(id, payload, routingKey, metadata, attempt, true);
    }

    /**
     * @param number the attempt number, 1 or more
     * @return this command as that attempt, with the same command id
     */
    public CommandMessage withAttempt(int number) {
        return number == attempt ? this
                : new CommandMessage(commandId, payload, routingKey, metadata, number, callerChosenId);
    }

    /** @return true when an earlier delivery of this command may have been stored: a retry, or a caller's key */
    public boolean mayHaveRunBefore() {
        return attempt > 1 || callerChosenId;
    }

    /** @return the command's class */
    public Class<?> payloadType() {
        return payload.getClass();
    }

    @Override
    public String toString() {
        return "CommandMessage[" + payload.getClass().getSimpleName() + " " + commandId + " -> " + routingKey
                + (attempt > 1 ? ", attempt " + attempt : "") + "]";
    }
}
