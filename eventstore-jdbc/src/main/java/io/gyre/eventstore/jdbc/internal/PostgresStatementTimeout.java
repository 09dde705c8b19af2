package io.gyre.eventstore.jdbc.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGStatement;

/**
 * Sets a statement's timeout in milliseconds through the PostgreSQL driver ({@code PgStatement.setQueryTimeoutMs}),
 * where JDBC's {@code setQueryTimeout} counts whole seconds, too coarse for a deadline of half a second. The driver
 * cancels the statement from its own timer when the time is up (SQLState 57014); setting it costs no round trip.
 *
 * <p>The method is found by name, not called through the driver's class: that class carries annotations whose
 * classes are not on Gyre's compile path, which javac reports as warnings (the build treats them as errors). A
 * driver without the method gets JDBC's timeout, rounded up to whole seconds. In a class of its own so that a store
 * on H2 never loads the driver's classes. Internal: not part of Gyre's API.
 */
final class PostgresStatementTimeout {

    private static final @Nullable MethodHandle SET_QUERY_TIMEOUT_MS = find();

    private PostgresStatementTimeout() {
    }

    /**
     * @param statement a statement prepared on a PostgreSQL connection (a pool's proxy unwraps to the driver's)
     * @param millis    its timeout, 1 or more
     * @return the timeout set, in milliseconds: {@code millis}, or more when the driver counts whole seconds
     * @throws SQLException when the driver refuses it
     */
    static long set(PreparedStatement statement, long millis) throws SQLException {
        if (SET_QUERY_TIMEOUT_MS == null) {
            int seconds = (int) Math.min(Integer.MAX_VALUE, (millis + 999) / 1000);
            statement.setQueryTimeout(seconds);
            return seconds * 1000L;
        }
        PGStatement driver = statement.unwrap(PGStatement.class);
        try {
            SET_QUERY_TIMEOUT_MS.invoke(driver, millis);
            return millis;
        } catch (SQLException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new SQLException("Setting a statement timeout of " + millis + " ms failed", e);
        }
    }

    private static @Nullable MethodHandle find() {
        try {
            Class<?> type = Class.forName("org.postgresql.jdbc.PgStatement");
            return MethodHandles.publicLookup()
                    .findVirtual(type, "setQueryTimeoutMs", MethodType.methodType(void.class, long.class))
                    .asType(MethodType.methodType(void.class, PGStatement.class, long.class));
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }
}
