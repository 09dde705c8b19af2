package io.gyre.command;

import org.jspecify.annotations.Nullable;

/** Runs one command on the node that owns its aggregate. */
@FunctionalInterface
public interface CommandHandlerFunction {

    /**
     * @param command the command
     * @return the result for the sender, possibly null
     * @throws Exception the failure for the sender
     */
    @Nullable Object handle(CommandMessage command) throws Exception;
}
