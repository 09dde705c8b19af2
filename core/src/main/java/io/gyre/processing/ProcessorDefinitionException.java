package io.gyre.processing;

import io.gyre.GyreNonTransientException;
import org.jspecify.annotations.Nullable;

/**
 * An event processor is misconfigured: an event handler with a wrong signature, a processor name used twice, a
 * handler that needs a resource its processor's delivery does not hand out, a segment count that differs from the
 * one its tokens were stored with. Thrown when the processor is defined or registered, naming what is wrong, so
 * that it never reaches a running node.
 */
public class ProcessorDefinitionException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message names the processor, the class or method, and the rule
     */
    public ProcessorDefinitionException(String message) {
        super(message);
    }

    /**
     * @param message names the processor, the class or method, and the rule
     * @param cause   the failure behind it
     */
    public ProcessorDefinitionException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }

    /**
     * The error every {@link TokenStore} gives when a processor's segment count differs from its stored tokens'.
     *
     * @param processor  the processor
     * @param stored     the segment count of the stored tokens
     * @param configured the count the processor is configured with
     * @return the exception to throw
     */
    public static ProcessorDefinitionException segmentCountChanged(String processor, int stored, int configured) {
        return new ProcessorDefinitionException("Processor '" + processor + "' has tokens for " + stored
                + " segments but is configured with " + configured + "; segments split the log by the hash of the "
                + "aggregate, so changing their number would give events to segments whose tokens never saw them. "
                + "Keep segments(" + stored + "), or delete the processor's tokens and let it replay with the new "
                + "count");
    }
}
