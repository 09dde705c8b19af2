package io.gyre.command;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A command's deadline passed before its caller learned its outcome. The two cases need different handling, so
 * they are two subclasses:
 * <ul>
 *   <li>{@link CommandNotExecutedException}: the command never ran and nothing of it is stored; sending it again,
 *       under any id, runs it once.</li>
 *   <li>{@link CommandOutcomeUnknownException}: the command may be running or committing. Send it again under the
 *       same {@linkplain #commandId() command id}: the store answers with its first decision if it was stored, and
 *       it runs once if not.</li>
 * </ul>
 * Transient: a caller with time left may send again as described.
 */
public abstract sealed class CommandTimeoutException extends io.gyre.GyreTransientException
        permits CommandNotExecutedException, CommandOutcomeUnknownException {

    private static final long serialVersionUID = 1L;

    private final String commandId;

    /**
     * @param message   names the command, the deadline and what happened
     * @param commandId the command's id
     */
    protected CommandTimeoutException(String message, String commandId) {
        this(message, commandId, null);
    }

    /**
     * @param message   names the command, the deadline and what happened
     * @param commandId the command's id
     * @param cause     the failure of the command's last attempt before the deadline, or null
     */
    protected CommandTimeoutException(String message, String commandId, @Nullable Throwable cause) {
        super(message, cause);
        this.commandId = Objects.requireNonNull(commandId, "commandId");
    }

    /** @return the command's id: re-send under it, with {@link CommandMessage#withCommandId(String)}, to be safe */
    public String commandId() {
        return commandId;
    }
}
