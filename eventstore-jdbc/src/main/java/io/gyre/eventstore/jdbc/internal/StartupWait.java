package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.JdbcEventStoreException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a store start while its database is still coming up (a node and its database started together, a database
 * restarting): a start whose connection fails is tried again with back-off, from a quarter of a second doubling to
 * five seconds, until it succeeds or the start timeout has passed, logging what it waits for. Only a lost or
 * refused connection is waited out (SQLState class 08, a server starting or shutting down, a pool's timeout); any
 * other failure ends the start at once, also a pool's timeout whose cause is the server refusing the login or the
 * database (class 28, 3D000). Internal: not part of Gyre's API.
 */
public final class StartupWait {

    private static final Logger log = LoggerFactory.getLogger(StartupWait.class);
    private static final long FIRST_PAUSE_MILLIS = 250;
    private static final long LONGEST_PAUSE_MILLIS = 5_000;

    /**
     * One try at starting.
     *
     * @param <T> what it yields
     */
    @FunctionalInterface
    public interface Attempt<T> {
        /**
         * @return what the start yields
         * @throws SQLException when the database fails
         */
        T run() throws SQLException;
    }

    private final Duration timeout;
    private final String database;

    /**
     * @param timeout  the longest time to keep trying; zero for one attempt
     * @param database what is waited for, for the log and the failure ("the event store database (…)")
     */
    public StartupWait(Duration timeout, String database) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.database = Objects.requireNonNull(database, "database");
    }

    /**
     * @param attempt the start, run once or more
     * @param <T>     what it yields
     * @return what the first attempt that succeeded yielded
     * @throws SQLException            the failure of an attempt, when it is not a connection failure
     * @throws JdbcEventStoreException when no attempt could connect within the timeout; its cause is the last
     *                                 failure. At once when the server refused the login or the database: its
     *                                 cause is that refusal
     */
    public <T> T run(Attempt<T> attempt) throws SQLException {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        long pause = FIRST_PAUSE_MILLIS;
        for (int attempts = 1; ; attempts++) {
            try {
                T result = attempt.run();
                if (attempts > 1) {
                    log.info("Reached {} after {} attempts in {} s", database, attempts, seconds(started));
                }
                return result;
            } catch (SQLException e) {
                SQLException refusal = SqlErrors.refusedLogin(e);
                if (refusal != null) {
                    // The server answered: waiting for it cannot help, and a pool would present the refusal as a
                    // timeout (a database still starting) until startupTimeout had passed.
                    throw new JdbcEventStoreException("Starting the event store failed: " + database + " refused "
                            + "the connection, which waiting cannot change; check the database name, user and "
                            + "password of the data source", refusal);
                }
                if (!SqlErrors.isConnectionFailure(e)) {
                    throw e;
                }
                long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (remainingMillis <= 0) {
                    throw new JdbcEventStoreException("Starting the event store failed: " + database + " did not "
                            + "answer within " + timeout.toSeconds() + " s (" + attempts + " attempt"
                            + (attempts == 1 ? "" : "s") + " in " + seconds(started) + " s); the last failure is the "
                            + "cause. If the database takes longer to start, raise startupTimeout", e);
                }
                long sleep = Math.min(pause, remainingMillis);
                String failure = "SQLState " + e.getSQLState() + ": " + e.getMessage();
                if (attempts == 1) {
                    log.warn("Waiting up to {} s for {} to answer; attempt 1 failed ({}), trying again in {} ms",
                            timeout.toSeconds(), database, failure, sleep);
                } else {
                    log.info("Still waiting for {}: attempt {} failed ({}), trying again in {} ms, giving up in {} s",
                            database, attempts, failure, sleep, remainingMillis / 1000);
                }
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    e.addSuppressed(interrupted);
                    throw new JdbcEventStoreException("Starting the event store was interrupted while waiting for "
                            + database + " (" + attempts + " attempts in " + seconds(started) + " s); the last "
                            + "failure is the cause", e);
                }
                pause = Math.min(pause * 2, LONGEST_PAUSE_MILLIS);
            }
        }
    }

    private static String seconds(long started) {
        return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9);
    }
}
