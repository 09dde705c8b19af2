package io.gyre.processing;

import java.util.List;
import java.util.Objects;

/**
 * A named group of event handlers that a node runs: a {@link TrackingProcessor}, which follows the global log from
 * a stored token, or a {@link SubscribingProcessor}, which runs in the appending node right after each append.
 * Register one with {@code Gyre.builder().processor(...)}. Definitions are immutable and checked when built.
 */
public sealed interface ProcessorDefinition permits TrackingProcessor, SubscribingProcessor {

    /** The longest processor name, in characters. */
    int MAX_NAME_LENGTH = 100;

    /** @return the processor's name: unique on a node, and the key of its tokens and dead letters */
    String name();

    /** @return the handler objects, in the order given */
    List<Object> handlers();

    /** @return what happens when a handler throws */
    ErrorPolicy errorPolicy();

    /**
     * Checks a processor name.
     *
     * @param name the name
     * @return the name
     * @throws IllegalArgumentException when it is empty, longer than {@value #MAX_NAME_LENGTH} characters, or has
     *                                  other characters than letters, digits and {@code . _ -}
     */
    static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (!io.gyre.processing.internal.Names.isValidProcessorName(name)) {
            throw new IllegalArgumentException("A processor name must be 1 to " + MAX_NAME_LENGTH + " letters, digits "
                    + "or . _ -, because it keys the processor's tokens and dead letters, but was '"
                    + (name.length() > 60 ? name.substring(0, 57) + "..." : name) + "' (" + name.length()
                    + " characters)");
        }
        return name;
    }

    /** A builder of a definition; {@code Gyre.Builder.processor} takes one and builds it. */
    sealed interface Builder permits TrackingProcessor.Builder, SubscribingProcessor.Builder {

        /**
         * @return the immutable definition
         * @throws ProcessorDefinitionException when the settings contradict each other
         */
        ProcessorDefinition build();
    }
}
