package io.gyre.eventstore.jdbc.internal;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Recognises an H2 failure that says the database file was closed under a statement by an interrupt, rather than
 * anything about the data: among the causes, a {@link ClosedChannelException} (or its subclasses, closed by this
 * thread's interrupt or another's), or an {@link OverlappingFileLockException} or "Re-locking failed" (two threads
 * re-opening the file at once, H2's {@code retry:} file system locking it again). H2 wraps them in its own
 * exceptions, several levels deep, with messages such as "Reading from file ... failed" or "Block not found".
 * Internal: not part of Gyre's API.
 */
final class FileClosedUnderRead {

    private static final String RELOCKING_FAILED = "Re-locking failed";

    private FileClosedUnderRead() {
    }

    /**
     * @param failure what a statement threw
     * @return true when a cause is the file closed under it
     */
    static boolean causedBy(Throwable failure) {
        return anyCause(failure, t -> t instanceof ClosedChannelException || t instanceof OverlappingFileLockException
                // retry: re-opening the file failed to take its lock again (FileRetryOnInterrupt.reLock)
                || (t instanceof IOException && RELOCKING_FAILED.equals(t.getMessage())));
    }

    /**
     * @param failure what a statement threw
     * @return true when the file was closed by the calling thread's own interrupt: the JDK throws
     *         {@link ClosedByInterruptException} only to the thread that was interrupted inside the channel
     */
    static boolean byThisThreadsInterrupt(Throwable failure) {
        return anyCause(failure, t -> t instanceof ClosedByInterruptException);
    }

    private static boolean anyCause(Throwable failure, Predicate<Throwable> test) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            if (test.test(t)) {
                return true;
            }
        }
        return false;
    }
}
