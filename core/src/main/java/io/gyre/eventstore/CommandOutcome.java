package io.gyre.eventstore;

import io.gyre.serialization.SerializedValue;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The decision a command's handler made, as the store keeps it under the command's id: the first decision on a
 * command id is final, so any later delivery of the same id (a re-send, a retry after a failover, a copy that
 * was held up on a paused node) is answered with it instead of being decided again.
 */
public sealed interface CommandOutcome {

    /**
     * The handler returned normally, with or without events.
     *
     * @param value its return value in stored form, or null when it returned nothing
     */
    record Result(@Nullable SerializedValue value) implements CommandOutcome {

        private static final Result NONE = new Result(null);

        /**
         * @param value a return value in stored form, or null
         * @return the outcome
         */
        public static Result of(@Nullable SerializedValue value) {
            return value == null ? NONE : new Result(value);
        }
    }

    /**
     * The handler refused the command by throwing. What is kept is what a caller of a later delivery is told:
     * the exception's class name and message (a stack trace or the exception object itself would tie the
     * store to the classes of one version of the application).
     *
     * @param exceptionType the fully qualified class name of the exception
     * @param message       its message, empty when it had none; at most {@value #MAX_MESSAGE_LENGTH} characters
     */
    record Refusal(String exceptionType, String message) implements CommandOutcome {

        /** The longest message kept; longer ones are cut. */
        public static final int MAX_MESSAGE_LENGTH = 2000;

        /** Checks both parts and cuts a long message. */
        public Refusal {
            Objects.requireNonNull(exceptionType, "exceptionType");
            Objects.requireNonNull(message, "message");
            if (exceptionType.isBlank()) {
                throw new IllegalArgumentException("exceptionType must not be blank");
            }
            if (message.length() > MAX_MESSAGE_LENGTH) {
                message = message.substring(0, MAX_MESSAGE_LENGTH - 3) + "...";
            }
        }

        /**
         * @param refusal what the handler threw
         * @return its stored form
         */
        public static Refusal of(Throwable refusal) {
            String message = refusal.getMessage();
            return new Refusal(refusal.getClass().getName(), message == null ? "" : message);
        }
    }
}
