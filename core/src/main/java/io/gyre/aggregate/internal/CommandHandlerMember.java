package io.gyre.aggregate.internal;

import io.gyre.command.CommandMessage;
import java.lang.invoke.MethodHandle;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One {@code @CommandHandler} constructor or method of an aggregate, invoked through a method handle of the
 * uniform shape {@code (Object aggregate, Object command, Object extra) -> Object}. Internal: not part of
 * Gyre's API.
 *
 * @param commandType the command class it handles
 * @param creation    true for a constructor
 * @param description the member as users wrote it, for messages
 * @param extra       what its optional second parameter receives
 * @param invoker     the adapted method handle
 */
public record CommandHandlerMember(Class<?> commandType, boolean creation, String description, ExtraParameter extra,
                                   MethodHandle invoker) {

    /** Checks every part. */
    public CommandHandlerMember {
        Objects.requireNonNull(commandType, "commandType");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(extra, "extra");
        Objects.requireNonNull(invoker, "invoker");
    }

    /**
     * Runs the handler; the caller has opened an {@link Invocation}.
     *
     * @param aggregate the aggregate, or null for a creation constructor
     * @param command   the command
     * @return the new aggregate for a constructor, else the method's return value (null for void)
     * @throws Throwable whatever the handler throws, unwrapped
     */
    public @Nullable Object invoke(@Nullable Object aggregate, CommandMessage command) throws Throwable {
        return (Object) invoker.invokeExact(aggregate, command.payload(), extra.valueFrom(command));
    }

    @Override
    public String toString() {
        return description;
    }
}
