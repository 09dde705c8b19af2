package io.gyre.processing;

import io.gyre.processing.internal.Handlers;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A processor whose handlers run in the node that appended the events, right after the append committed, on the
 * appending thread: for in-process side effects that need no token (refreshing a cache, waking a waiting request).
 * Events of one aggregate arrive in sequence order, since one node appends them one command at a time.
 *
 * <p>Limits, which is why read models belong in a {@link TrackingProcessor}: it sees only this node's appends,
 * nothing that happened while the node was down, and nothing appended before it started. A failing handler is
 * retried on the appending thread (the command's reply waits; its outcome is already stored and does not change),
 * then per the {@link ErrorPolicy}: {@link ErrorPolicy.Action#DEAD_LETTER} keeps the event for
 * {@link Processors#retryDeadLetters(String)}; {@link ErrorPolicy.Action#STOP_SEGMENT} stops the processor, which
 * then misses events until {@link Processors#resume(String)}.
 */
public final class SubscribingProcessor implements ProcessorDefinition {

    private final String name;
    private final List<Object> handlers;
    private final ErrorPolicy errorPolicy;

    private SubscribingProcessor(Builder builder) {
        this.name = builder.name;
        this.handlers = builder.handlers.targets();
        this.errorPolicy = builder.errorPolicy;
    }

    /**
     * @param name the processor's name: 1 to 100 letters, digits or {@code . _ -}
     * @return a builder
     * @throws IllegalArgumentException when the name breaks the rule
     */
    public static Builder named(String name) {
        return new Builder(ProcessorDefinition.checkName(name));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Object> handlers() {
        return handlers;
    }

    @Override
    public ErrorPolicy errorPolicy() {
        return errorPolicy;
    }

    @Override
    public String toString() {
        return "SubscribingProcessor[" + name + ", " + errorPolicy + "]";
    }

    /** Configures a {@link SubscribingProcessor}; each setter checks its value at once. Not thread-safe. */
    public static final class Builder implements ProcessorDefinition.Builder {

        private final String name;
        private @org.jspecify.annotations.Nullable Handlers handlers;
        private ErrorPolicy errorPolicy = ErrorPolicy.builder().attempts(3)
                .backoff(java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(100)).build();

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Adds handler objects, checking their {@link EventHandler} methods at once.
         *
         * @param handlers objects with {@code @EventHandler} methods
         * @return this builder
         * @throws ProcessorDefinitionException naming the method with a wrong signature, a class without handler
         *                                      methods, or an object given twice
         */
        public Builder handlers(Object... handlers) {
            List<Object> more = Arrays.asList(handlers);
            this.handlers = this.handlers == null ? Handlers.inspect(name, more) : this.handlers.with(more);
            return this;
        }

        /**
         * @param errorPolicy what happens when a handler throws (default: 3 attempts, 10 to 100 ms apart, then stop);
         *                    the back-off is spent on the appending thread
         * @return this builder
         */
        public Builder onError(ErrorPolicy errorPolicy) {
            this.errorPolicy = Objects.requireNonNull(errorPolicy, "errorPolicy");
            return this;
        }

        /**
         * @return the immutable definition
         * @throws ProcessorDefinitionException when no handler was given, or a handler takes a token or a resource
         */
        @Override
        public SubscribingProcessor build() {
            if (handlers == null) {
                throw new ProcessorDefinitionException("Processor '" + name + "' has no handler; call handlers(...) "
                        + "with at least one object with @EventHandler methods");
            }
            handlers.checkParameters(null, false, "a subscribing processor has no transaction; write read models "
                    + "from a TrackingProcessor with delivery(Delivery.transactional(...))");
            return new SubscribingProcessor(this);
        }
    }
}
