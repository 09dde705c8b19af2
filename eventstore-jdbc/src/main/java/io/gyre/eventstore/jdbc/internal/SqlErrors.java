package io.gyre.eventstore.jdbc.internal;

import io.gyre.GyreException;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.jdbc.EventStoreSchemaException;
import io.gyre.eventstore.jdbc.JdbcEventStoreException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Classifies driver errors: a duplicate key is a concurrency conflict, wherever in the chain it sits
 * (PostgreSQL reports it inside a {@code BatchUpdateException}'s next exception); connection, timeout and
 * resource errors are transient; schema errors, and data the database refuses for its content or its size (SQLState
 * classes 22, 23 and 54, such as an index entry over PostgreSQL's limit, 54000), are not: sending the same data
 * again cannot help. Internal: not part of Gyre's API.
 */
public final class SqlErrors {

    private static final String UNIQUE_VIOLATION = "23505";

    private SqlErrors() {
    }

    /**
     * @param failure a driver error
     * @return true when it, a cause or a chained next exception is a unique-key violation
     */
    public static boolean isUniqueViolation(SQLException failure) {
        for (SQLException e : chain(failure)) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param failure a driver error
     * @return true when the connection or the server failed as a whole (SQLState class 08, an administrator
     *         or crash shutdown, or the driver's own connection exceptions), rather than one statement
     */
    public static boolean isConnectionFailure(SQLException failure) {
        for (SQLException e : chain(failure)) {
            if (e instanceof SQLRecoverableException || e instanceof java.sql.SQLTransientConnectionException
                    || e instanceof java.sql.SQLNonTransientConnectionException) {
                return true;
            }
            String state = e.getSQLState();
            if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                    || state.equals("57P03"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A connection the server answered and refused for a reason that waiting cannot change: a database that does
     * not exist (SQLState 3D000) or a login refused (class 28: a wrong password, an unknown role). A pool reports
     * such a refusal inside its own timeout exception (HikariCP's {@code SQLTransientConnectionException}), which
     * {@link #isConnectionFailure} takes for a database still starting, so this looks through the whole chain.
     *
     * @param failure a driver or pool error
     * @return the server's refusal deepest in its chain, or null when there is none
     */
    public static @Nullable SQLException refusedLogin(SQLException failure) {
        // The deepest one: a pool copies the driver's SQLState onto its own timeout, whose message hides the
        // server's ("database \"x\" does not exist").
        SQLException refusal = null;
        for (SQLException e : chain(failure)) {
            String state = e.getSQLState();
            if (state != null && (state.equals("3D000") || state.startsWith("28"))) {
                refusal = e;
            }
        }
        return refusal;
    }

    /**
     * Translates a driver error into Gyre's exception of the matching kind.
     *
     * @param operation what was being done, with the aggregate or token involved
     * @param failure   the driver's error
     * @return the exception to throw
     */
    public static GyreException translate(String operation, SQLException failure) {
        String state = firstState(failure);
        String sqlClass = sqlClass(state);
        if (sqlClass.equals("42") || sqlClass.equals("3F")) {
            return new EventStoreSchemaException(operation + " failed because the database refused the statement "
                    + "(SQLState " + state + "): " + failure.getMessage() + "; check that the event store schema "
                    + "exists and matches the configured table names", failure);
        }
        if (sqlClass.equals("22") || sqlClass.equals("23") || sqlClass.equals("54")) {
            // Data exceptions, integrity violations and program limits (an index entry or statement too large):
            // the same data is refused again however often it is sent.
            return new EventRejectedException(operation + " failed because the database refused the data for its "
                    + (sqlClass.equals("54") ? "size" : "content or shape") + " (SQLState " + state + "): "
                    + failure.getMessage(), failure);
        }
        return new JdbcEventStoreException(operation + " failed", failure);
    }

    private static String sqlClass(@Nullable String state) {
        return state == null || state.length() < 2 ? "" : state.substring(0, 2);
    }

    private static @Nullable String firstState(SQLException failure) {
        for (SQLException e : chain(failure)) {
            if (e instanceof SQLTransientException || e instanceof SQLRecoverableException) {
                return e.getSQLState() == null ? "08000" : e.getSQLState();
            }
            if (e.getSQLState() != null) {
                return e.getSQLState();
            }
        }
        return null;
    }

    /** The error, its causes and its chained next exceptions, each once. */
    private static Iterable<SQLException> chain(SQLException failure) {
        Set<Throwable> seen = new HashSet<>();
        Deque<Throwable> pending = new ArrayDeque<>();
        pending.add(failure);
        List<SQLException> result = new ArrayList<>();
        while (!pending.isEmpty()) {
            Throwable next = pending.poll();
            if (!seen.add(next)) {
                continue;
            }
            if (next instanceof SQLException sql) {
                result.add(sql);
                if (sql.getNextException() != null) {
                    pending.add(sql.getNextException());
                }
            }
            if (next.getCause() != null) {
                pending.add(next.getCause());
            }
        }
        return result;
    }
}
