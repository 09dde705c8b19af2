package io.gyre.processing;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The global log stands still while committed events wait in it: something on the database holds every reader back
 * (on PostgreSQL, a transaction that has written and stays open anywhere on the server, such as a session left idle
 * in a transaction). A processor whose reader has read all it may shows it in {@link ProcessorStatus#logStall()}:
 * its segments look {@link SegmentState#LIVE}, yet events committed after the stall began do not reach them until
 * the blocking session ends. End that session, or have the database end such sessions (PostgreSQL:
 * {@code idle_in_transaction_session_timeout}).
 *
 * @param since            when the log last moved, as far as the event store can tell
 * @param heldFor          how long it had stood still when the store last looked
 * @param checkedAt        when the store last looked; the stall may have ended since
 * @param blockingSessions the sessions holding readers back, the oldest first; may be empty when the database does
 *                         not show them (PostgreSQL: a prepared transaction, or a user without
 *                         {@code pg_read_all_stats})
 * @param message          what is wrong and what to do, as the event store logs it
 */
public record GlobalLogStall(Instant since, Duration heldFor, Instant checkedAt, List<BlockingSession> blockingSessions,
                             String message) {

    /** Copies the list and checks every part. */
    public GlobalLogStall {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(heldFor, "heldFor");
        Objects.requireNonNull(checkedAt, "checkedAt");
        blockingSessions = List.copyOf(blockingSessions);
        Objects.requireNonNull(message, "message");
    }

    /**
     * A database session whose open transaction holds the log back.
     *
     * @param sessionId        the database's id for the session: on PostgreSQL the server process id, which
     *                         {@code pg_terminate_backend(pid)} takes
     * @param database         its database, or null when not shown
     * @param state            such as {@code idle in transaction}, or null when not shown
     * @param transactionStart when its transaction began, or null when not shown
     * @param query            its last statement, shortened, or null when not shown
     */
    public record BlockingSession(long sessionId, @Nullable String database, @Nullable String state,
                                  @Nullable Instant transactionStart, @Nullable String query) {
    }
}
