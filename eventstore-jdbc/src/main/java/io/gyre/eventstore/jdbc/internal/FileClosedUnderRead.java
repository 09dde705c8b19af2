package io.gyre.eventstore.jdbc.internal;

import java.nio.channels.ClosedChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Recognises an H2 failure that says the database file was closed under a statement by an interrupt, rather than
 * anything about the data: a {@link ClosedChannelException} (or its subclasses, closed by this thread's interrupt or
 * another's) or an {@link OverlappingFileLockException} (two threads re-opening the file at once, H2's
 * {@code retry:} file system re-locking it) anywhere among the causes. H2 wraps them in its own exceptions, several
 * levels deep, with messages such as "Reading from file ... failed" or "Block not found". Internal: not part of
 * Gyre's API.
 */
final class FileClosedUnderRead {

    private FileClosedUnderRead() {
    }

    /**
     * @param failure what a statement threw
     * @return true when a cause is the file closed under it
     */
    static boolean causedBy(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof ClosedChannelException || t instanceof OverlappingFileLockException) {
                return true;
            }
        }
        return false;
    }
}
