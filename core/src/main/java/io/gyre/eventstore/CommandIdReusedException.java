package io.gyre.eventstore;

import java.util.Objects;

/**
 * A command id that is already decided for the aggregate came with a different command: the stored decision's
 * fingerprint and the new command's differ ({@link AppendRequest#fingerprint()}). An idempotency key was reused
 * for another command, and answering with the stored decision would silently hand this caller the outcome of a
 * command it did not send. Nothing was stored; trying again cannot help: give the command an id of its own.
 *
 * <p>A re-delivery of the same command (same fingerprint, or a fingerprint unknown on either side) is not this
 * failure: it gets a {@link DuplicateCommandException} carrying the stored decision.
 */
public class CommandIdReusedException extends EventRejectedException {

    private static final long serialVersionUID = 1L;

    private final transient CommandRecord stored;
    private final String fingerprint;

    /**
     * @param stored      the decision stored under the command id
     * @param fingerprint the fingerprint of the command that reused the id
     */
    public CommandIdReusedException(CommandRecord stored, String fingerprint) {
        super("Command id " + stored.commandId() + " is already decided for " + stored.stream() + " for a different "
                + "command (stored fingerprint " + stored.fingerprint() + ", this command's " + fingerprint + "); "
                + "nothing was stored. A command id, or idempotency key, names one command: send a different command "
                + "under an id of its own", null);
        this.stored = Objects.requireNonNull(stored, "stored");
        this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    }

    /** @return the decision stored under the command id, for the command that used it first */
    public CommandRecord stored() {
        return stored;
    }

    /** @return the fingerprint of the command that reused the id */
    public String fingerprint() {
        return fingerprint;
    }
}
