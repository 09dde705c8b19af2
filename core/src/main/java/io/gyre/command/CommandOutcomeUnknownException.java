package io.gyre.command;

import org.jspecify.annotations.Nullable;

/**
 * The command's deadline passed while it may have been running or committing (on this node, or sent to another
 * member that has not answered): it may be stored, or not. Send it again under the same
 * {@linkplain #commandId() command id} ({@code CommandMessage.of(command).withCommandId(e.commandId())}): if its
 * first delivery was stored, the store answers with that decision (its result, or its refusal) and nothing is
 * stored twice; if not, it runs once. Transient.
 */
public final class CommandOutcomeUnknownException extends CommandTimeoutException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message   names the command, the deadline and where it may be running
     * @param commandId the command's id
     */
    public CommandOutcomeUnknownException(String message, String commandId) {
        super(message, commandId);
    }

    /**
     * @param message   names the command, the deadline and what happened
     * @param commandId the command's id
     * @param cause     the failure of the command's last attempt before the deadline, or null
     */
    public CommandOutcomeUnknownException(String message, String commandId, @Nullable Throwable cause) {
        super(message, commandId, cause);
    }
}
