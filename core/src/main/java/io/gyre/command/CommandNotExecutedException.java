package io.gyre.command;

import org.jspecify.annotations.Nullable;

/**
 * The command's deadline passed before it ran: it was dropped unrun (waiting for capacity, queued behind other
 * commands of its aggregate, or waiting for a retry) and nothing of it is stored, on any node. Sending it again is
 * safe under a new command id or the same one. Transient.
 *
 * <p>A command sent under an id the caller chose ({@link CommandMessage#withCommandId}) that did not run is answered
 * {@link CommandOutcomeUnknownException} instead, with this exception as its cause: an earlier send under that id
 * may be stored, so only a re-send under the same id is safe. (A message whose deadline had already passed when it
 * was sent is still refused with this exception, at {@code send}.)
 */
public final class CommandNotExecutedException extends CommandTimeoutException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message   names the command, the deadline and where it was waiting
     * @param commandId the command's id
     */
    public CommandNotExecutedException(String message, String commandId) {
        super(message, commandId);
    }

    /**
     * @param message   names the command, the deadline and what happened
     * @param commandId the command's id
     * @param cause     the failure of the command's last attempt before the deadline, or null
     */
    public CommandNotExecutedException(String message, String commandId, @Nullable Throwable cause) {
        super(message, commandId, cause);
    }
}
