package io.gyre.eventstore.jdbc.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * An H2 database in a file, with the connection pool of the embedded store. Kept apart so that H2, an optional
 * dependency, is loaded only by a store that asks for it. Internal: not part of Gyre's API.
 */
public final class EmbeddedH2 implements AutoCloseable {

    private static final int MAX_CONNECTIONS = 64;

    private final JdbcConnectionPool pool;

    private EmbeddedH2(JdbcConnectionPool pool) {
        this.pool = pool;
    }

    /**
     * Opens the pool, creating the file's folders. WRITE_DELAY=0 writes each commit to the file before
     * acknowledging it, so a killed process loses no acknowledged event (H2's default keeps up to half a second
     * of commits in memory); LOCK_TIMEOUT=10000 lets an insert wait up to 10 s for a key another transaction holds.
     *
     * @param file the database file without extension
     * @return the pool; close it to release the file
     * @throws IllegalArgumentException when the folder cannot be created
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
        String url = "jdbc:h2:file:" + absolute + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000";
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "sa", "");
        pool.setMaxConnections(MAX_CONNECTIONS);
        return new EmbeddedH2(pool);
    }

    /** @return the pooled data source */
    public DataSource dataSource() {
        return pool;
    }

    /** Closes every connection, which lets H2 close the file. */
    @Override
    public void close() {
        pool.dispose();
    }
}
