package io.gyre.command;

import io.gyre.Metadata;
import io.gyre.command.internal.TargetIdAccessor;
import io.gyre.eventstore.AppendRequest;
import io.gyre.internal.Ids;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A command on its way to its handler.
 *
 * @param commandId      unique per command and kept across every retry and re-route of it: the key under which its
 *                       first decision is stored, so that any later delivery of it is answered with that decision
 * @param payload        the command object
 * @param routingKey     the target aggregate id, read from the payload's {@link TargetAggregateId} member
 * @param metadata       metadata from the sender
 * @param attempt        1 for the first delivery, more for a retry or re-route of the same command
 * @param callerChosenId true when the caller chose the command id (an idempotency key) and may have sent it
 *                       before
 * @param deadline       when the command must have run, or null before the gateway set it; every node drops the
 *                       command unrun once it has passed
 *
 * <p>The owner checks the store for the command's decision before running a command that
 * {@link #mayHaveRunBefore() may have run before}, so a command whose earlier delivery was stored is answered with
 * its stored outcome instead of being decided again (a second decision could even differ: a withdrawal re-run
 * after the first one was stored may find the balance too low).
 */
public record CommandMessage(String commandId, Object payload, String routingKey, Metadata metadata, int attempt,
                             boolean callerChosenId, @Nullable Deadline deadline) {

    /** Checks every part. */
    public CommandMessage {
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(routingKey, "routingKey");
        Objects.requireNonNull(metadata, "metadata");
        if (commandId.isBlank() || commandId.length() > AppendRequest.MAX_COMMAND_ID_LENGTH) {
            throw new IllegalArgumentException("commandId must be 1 to " + AppendRequest.MAX_COMMAND_ID_LENGTH
                    + " characters and not blank, but was '" + (commandId.length() > 60
                    ? commandId.substring(0, 57) + "..." : commandId) + "' (" + commandId.length() + " characters)");
        }
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be 1 or more, but was " + attempt);
        }
    }

    /**
     * Reads the id of the aggregate a command targets, as {@link #of(Object)} takes it for the routing key: a
     * receiving node uses it to check that a command it was sent names the aggregate it was routed as.
     *
     * @param command the command object
     * @return the value of its {@link TargetAggregateId} member, as text
     * @throws NullPointerException              when the command is null
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate, or names it with a null,
     *                                           blank or too long id
     */
    public static String targetAggregateIdOf(Object command) {
        Objects.requireNonNull(command, "command");
        return TargetIdAccessor.of(command.getClass()).routingKey(command);
    }

    /**
     * Wraps a command object with a new command id, taking the routing key from its
     * {@link TargetAggregateId} member.
     *
     * @param payload  the command
     * @param metadata metadata to send with it
     * @return the message, with no deadline yet (the gateway sets one)
     * @throws NullPointerException              when the command or the metadata is null
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate
     * @throws IllegalArgumentException          when the aggregate id is blank or too long
     */
    public static CommandMessage of(Object payload, Metadata metadata) {
        Objects.requireNonNull(payload, "command");
        Objects.requireNonNull(metadata, "metadata");
        String routingKey = TargetIdAccessor.of(payload.getClass()).routingKey(payload);
        return new CommandMessage(Ids.newId(), payload, routingKey, metadata, 1, false, null);
    }

    /**
     * @param payload the command
     * @return the message, with no metadata and no deadline yet
     * @throws NullPointerException              when the command is null
     * @throws MissingTargetAggregateIdException when the command does not name its aggregate
     */
    public static CommandMessage of(Object payload) {
        return of(payload, Metadata.empty());
    }

    /**
     * Gives the command a caller-chosen id, for example an idempotency key a client sends again when it never
     * learned the outcome of its first request, or the {@link CommandTimeoutException#commandId()} of a command
     * whose outcome is unknown: a command whose decision is already stored under that id is answered with it
     * (its result, or its refusal) instead of running twice.
     *
     * @param id the command id, unique per command, 1 to 255 characters
     * @return this command with that id
     */
    public CommandMessage withCommandId(String id) {
        return new CommandMessage(id, payload, routingKey, metadata, attempt, true, deadline);
    }

    /**
     * @param number the attempt number, 1 or more
     * @return this command as that attempt, with the same command id
     */
    public CommandMessage withAttempt(int number) {
        return number == attempt ? this
                : new CommandMessage(commandId, payload, routingKey, metadata, number, callerChosenId, deadline);
    }

    /**
     * @param newDeadline when the command must have run
     * @return this command with that deadline
     */
    public CommandMessage withDeadline(Deadline newDeadline) {
        Objects.requireNonNull(newDeadline, "deadline");
        return newDeadline.equals(deadline) ? this
                : new CommandMessage(commandId, payload, routingKey, metadata, attempt, callerChosenId, newDeadline);
    }

    /** @return true when an earlier delivery of this command may have been decided: a retry, or a caller's key */
    public boolean mayHaveRunBefore() {
        return attempt > 1 || callerChosenId;
    }

    /** @return true once the command's deadline has passed; false when it has none */
    public boolean isLate() {
        return deadline != null && deadline.hasPassed();
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
