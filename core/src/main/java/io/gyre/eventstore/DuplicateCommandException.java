package io.gyre.eventstore;

import io.gyre.GyreNonTransientException;
import java.util.Objects;

/**
 * An append carried the id of a command whose events are already stored for the aggregate: the command ran
 * twice (its first attempt was still alive somewhere when a retry ran, as in a network partition). Nothing was
 * appended. The repository turns this into an acknowledgement with the stored result, so a command takes effect
 * exactly once whatever the timing of its attempts.
 */
public class DuplicateCommandException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final transient CommandRecord stored;

    /**
     * @param stored the command as stored by its earlier attempt
     */
    public DuplicateCommandException(CommandRecord stored) {
        super("Command " + stored.commandId() + " is already stored for aggregate '" + stored.aggregateId()
                + "' (sequence " + stored.firstSequence() + ".." + stored.lastSequence() + "); nothing was appended");
        this.stored = Objects.requireNonNull(stored, "stored");
    }

    /** @return the command as stored by its earlier attempt */
    public CommandRecord stored() {
        return stored;
    }
}
