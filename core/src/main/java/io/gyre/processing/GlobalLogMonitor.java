package io.gyre.processing;

import java.util.Optional;

/**
 * An event store that can tell when its global log stands still while committed events wait in it (a
 * {@link GlobalLogStall}). A Gyre node asks its event store, when the store is one, each time it builds a tracking
 * processor's {@link ProcessorStatus}, and shows the stall there while the processor's reader has read all it may.
 * The JDBC event store on PostgreSQL is one.
 */
@FunctionalInterface
public interface GlobalLogMonitor {

    /**
     * What the store last found, without asking the database again: status requests may come often, and the store
     * looks on its own while readers get less than they ask for (the JDBC store: at most once a second).
     *
     * @return the stall, or empty when the log moved when last looked at (or has not been looked at yet)
     */
    Optional<GlobalLogStall> lastStall();
}
