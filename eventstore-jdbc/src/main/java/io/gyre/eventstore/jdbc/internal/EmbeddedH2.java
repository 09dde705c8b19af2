package io.gyre.eventstore.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * An H2 database in a file, with the connection pool of the embedded store. Kept apart so that H2 and the pool
 * are loaded only by a store that asks for them. Internal: not part of Gyre's API.
 *
 * <p>The pool is HikariCP rather than H2's own {@code JdbcConnectionPool}: H2's pool lends each connection as a new
 * handle after a rollback, and statements prepared through such a handle were never found in the session's cache
 * of parsed statements, so every append parsed its three statements again (about 30% more CPU per append
 * transaction, measured against HikariCP on the same file).
 */
public final class EmbeddedH2 implements AutoCloseable {

    /** Writers, readers and callers of one store together; an embedded connection costs only memory. */
    static final int MAX_CONNECTIONS = 64;

    /**
     * How long a thread waits for a free connection. An embedded connection opens in a millisecond and is held for a
     * statement or a transaction, so a wait is short unless the store closes meanwhile: HikariCP does not wake a
     * thread that waits in {@code getConnection()} when its pool closes (measured with HikariCP 7.1.0: the waiter
     * returned after the whole timeout), and with its default of 30 s a node closed just after its embedded store
     * waited that long for a command that had asked for a connection (seen once, on one CPU).
     */
    private static final long CONNECTION_TIMEOUT_MILLIS = 5_000;

    /** Connections kept open while the store is idle; more are opened under load. */
    private static final int MIN_IDLE_CONNECTIONS = 4;

    private final HikariDataSource pool;

    private EmbeddedH2(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Opens the pool, creating the file's folders. WRITE_DELAY=0 writes each commit to the file before
     * acknowledging it, so a killed process loses no acknowledged event (H2's default keeps up to half a second
     * of commits in memory); LOCK_TIMEOUT=10000 lets an insert wait up to 10 s for a key another transaction holds.
     *
     * <p>The file is opened through H2's {@code retry:} file system, which opens the file again when a thread
     * interrupted during a read or write closed it. Callers read the store on their own threads, and the JDK closes
     * a file channel for every thread when one thread is interrupted inside it: with the plain {@code file:} system
     * one interrupted read (a request thread cancelled, an executor shut down) failed every later read and write of
     * the database (an H2 test program: 0 reads out of thousands after the first interrupt, against 135,000 reads and
     * only the interrupted calls failing with {@code retry:}). {@code retry:} still gives up now and then on a read
     * of another thread when interrupts come often; {@link Connections#read} runs such a read again.
     *
     * @param file the database file without extension
     * @return the pool; close it to release the file
     * @throws IllegalArgumentException when the folder cannot be created
     * @throws io.gyre.GyreException     when the file cannot be opened (another process holds it, say), from
     *                                   {@link SqlErrors#translate}
     */
    public static EmbeddedH2 open(Path file) {
        Objects.requireNonNull(file, "file");
        Path absolute = file.toAbsolutePath().normalize();
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot create the folder " + absolute.getParent() + " of H2 database "
                    + absolute, e);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:retry:" + absolute + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000");
        config.setUsername("sa");
        config.setPassword("");
        config.setPoolName("gyre-h2-" + absolute.getFileName());
        config.setMaximumPoolSize(MAX_CONNECTIONS);
        config.setMinimumIdle(MIN_IDLE_CONNECTIONS);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MILLIS);
        // No server here drops old connections, so none is retired for its age: H2 closes the database when its
        // last connection closes, and reopening it costs a read of the file.
        config.setMaxLifetime(0);
        // The pool opens its first connection here, so a file that cannot be opened fails at once with H2's
        // reason, rather than after the pool's wait for a connection.
        try {
            return new EmbeddedH2(new HikariDataSource(config));
        } catch (HikariPool.PoolInitializationException e) {
            if (e.getCause() instanceof SQLException failure) {
                throw SqlErrors.translate("Opening the H2 database " + absolute, failure);
            }
            throw e;
        }
    }

    /** @return the pooled data source */
    public DataSource dataSource() {
        return pool;
    }

    /** Closes every connection, which lets H2 close the file. */
    @Override
    public void close() {
        pool.close();
    }
}
