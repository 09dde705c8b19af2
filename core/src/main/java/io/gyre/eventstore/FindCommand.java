package io.gyre.eventstore;

import java.util.Optional;

/**
 * Looking up a command's decision by its id, so that a command delivered again (re-sent after a failover or a lost
 * reply, or a copy held up on a paused node) is answered with its first decision instead of being decided twice.
 */
@FunctionalInterface
public interface FindCommand {

    /**
     * @param stream    the aggregate the command targeted
     * @param commandId the command
     * @return its record when its decision is stored, empty otherwise
     * @throws EventStoreException when the store cannot be read
     */
    Optional<CommandRecord> findCommand(StreamId stream, String commandId);
}
