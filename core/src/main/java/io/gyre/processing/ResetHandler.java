package io.gyre.processing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that clears a read model before its processor replays events ({@link Processors#reset}). It runs
 * once per reset, on the node that runs the reset, after every segment has stopped and before any token moves.
 *
 * <p>Signature: {@code void clear()}, or {@code void clear(Connection connection)} in a processor with a
 * {@link Delivery#transactional(ProcessingTransactions) transactional} delivery: then the deletes and the moved
 * tokens commit in one transaction, so the read model is never cleared with its tokens left where they were, or
 * the other way round. A reset handler that throws aborts the reset: the tokens stay, and the processor resumes
 * where it was.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ResetHandler {
}
