package io.gyre.eventstore;

import java.util.Optional;

/**
 * Looking up a command by its id, so that a command re-sent after a failover or a lost reply is recognised and
 * acknowledged with its stored result instead of running twice.
 */
@FunctionalInterface
public interface FindCommand {

    /**
     * @param aggregateId the aggregate the command targeted
     * @param commandId   the command
     * @return its record when its events are stored, empty otherwise
     * @throws EventStoreException when the store cannot be read
     */
    Optional<CommandRecord> findCommand(String aggregateId, String commandId);
}
