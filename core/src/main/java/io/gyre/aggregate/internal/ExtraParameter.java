package io.gyre.aggregate.internal;

import io.gyre.Metadata;
import io.gyre.command.CommandMessage;
import org.jspecify.annotations.Nullable;

/** What the optional second parameter of a command handler receives. Internal: not part of Gyre's API. */
public enum ExtraParameter {
    /** The handler has one parameter. */
    NONE,
    /** The second parameter is the command's {@link Metadata}. */
    METADATA,
    /** The second parameter is the whole {@link CommandMessage}. */
    MESSAGE;

    /**
     * @param type the declared type of a second parameter
     * @return the matching kind, or null when the type is not supported
     */
    static @Nullable ExtraParameter forType(Class<?> type) {
        if (type == Metadata.class) {
            return METADATA;
        }
        if (type == CommandMessage.class) {
            return MESSAGE;
        }
        return null;
    }

    @Nullable Object valueFrom(CommandMessage command) {
        return switch (this) {
            case NONE -> null;
            case METADATA -> command.metadata();
            case MESSAGE -> command;
        };
    }
}
