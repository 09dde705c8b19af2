package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.GyreTransientException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.conformance.Events;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Nodes whose database is not up yet wait for it at start, with back-off, up to their start timeout, instead of
 * failing at the pool's first connection timeout; only a lost or refused connection is waited out.
 */
class StartWhileTheDatabaseComesUpTest {

    @Test
    void three_nodes_started_before_their_database_wait_for_it_and_all_start() throws Exception {
        int port = freePort();
        List<HikariDataSource> pools = new ArrayList<>();
        AtomicInteger attempts = new AtomicInteger();
        ExecutorService nodes = Executors.newFixedThreadPool(3);
        EmbeddedPostgres database = null;
        try {
            List<Future<JdbcEventStore>> starting = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                HikariDataSource pool = pool(port);
                pools.add(pool);
                DataSource counted = JdbcTestDataSources.counting(pool, attempts);
                starting.add(nodes.submit(() -> JdbcEventStore.builder(counted).createSchema(true)
                        .startupTimeout(Duration.ofSeconds(60)).build()));
            }
            // Every node has found the database missing at least twice before it comes up.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (attempts.get() < 6) {
                assertThat(System.nanoTime()).as("three nodes tried to connect twice each").isLessThan(deadline);
                assertThat(starting).noneMatch(Future::isDone);
                Thread.sleep(10);
            }
            database = EmbeddedPostgres.builder().setPort(port).start();

            List<JdbcEventStore> stores = new ArrayList<>();
            for (Future<JdbcEventStore> node : starting) {
                stores.add(node.get(60, TimeUnit.SECONDS));
            }
            for (int n = 0; n < stores.size(); n++) {
                ExpectedSequence head = n == 0 ? ExpectedSequence.noStream() : ExpectedSequence.exactly(n - 1);
                stores.get(n).append(append("acc", head, "cmd-" + n, n));
            }
            assertThat(stores.get(0).readStream(Events.stream("acc")).count()).isEqualTo(3);
        } finally {
            nodes.shutdownNow();
            pools.forEach(HikariDataSource::close);
            if (database != null) {
                database.close();
            }
        }
    }

    @Test
    void a_database_that_never_answers_fails_the_start_after_its_timeout_naming_what_was_waited_for()
            throws IOException {
        PGSimpleDataSource nowhere = new PGSimpleDataSource();
        nowhere.setServerNames(new String[] {"localhost"});
        nowhere.setPortNumbers(new int[] {freePort()});
        nowhere.setUser("postgres");
        AtomicInteger attempts = new AtomicInteger();
        DataSource counted = JdbcTestDataSources.counting(nowhere, attempts);

        // 3 s, not 1: on a loaded machine the driver's first attempt alone can take most of a second.
        assertThatThrownBy(() -> JdbcEventStore.builder(counted).startupTimeout(Duration.ofSeconds(3)).build())
                .isInstanceOfSatisfying(JdbcEventStoreException.class, e -> {
                    assertThat(e.sqlState()).startsWith("08");
                    assertThat(GyreTransientException.isCauseOf(e)).isTrue();
                    assertThat(e.getCause()).isInstanceOf(SQLException.class);
                })
                .hasMessageContaining("did not answer within 3 s")
                .hasMessageContaining("the event store database (")
                .hasMessageContaining("raise startupTimeout");
        assertThat(attempts.get()).as("attempts within the 3 s").isGreaterThan(1);
    }

    @Test
    void a_failure_that_is_not_about_the_connection_ends_the_start_at_once() {
        PGSimpleDataSource wrongDatabase = new PGSimpleDataSource();
        wrongDatabase.setUrl(PostgresServer.get().dataSource().getJdbcUrl());
        wrongDatabase.setDatabaseName("no_such_database");
        wrongDatabase.setUser(PostgresServer.get().dataSource().getUsername());
        wrongDatabase.setPassword(PostgresServer.get().dataSource().getPassword());
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> JdbcEventStore.builder(JdbcTestDataSources.counting(wrongDatabase, attempts))
                .startupTimeout(Duration.ofSeconds(60)).build())
                .isInstanceOfSatisfying(JdbcEventStoreException.class,
                        e -> assertThat(e.sqlState()).isEqualTo("3D000"));
        assertThat(attempts.get()).isEqualTo(1);
    }

    /**
     * The pool the README recommends, set up as it says ({@code initializationFailTimeout(-1)}), reports the
     * server's "database does not exist" inside its own connection timeout; that must not be waited out as a
     * database still starting (it was, for the whole startupTimeout, before).
     */
    @Test
    void a_missing_database_behind_a_hikari_pool_ends_the_start_at_once_naming_the_refusal() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(PostgresServer.get().dataSource().getJdbcUrl()
                .replaceFirst("(//[^/]+/)[^?]*", "$1no_such_database"));
        config.setUsername(PostgresServer.get().dataSource().getUsername());
        config.setPassword(PostgresServer.get().dataSource().getPassword());
        config.setConnectionTimeout(1_000);
        config.setInitializationFailTimeout(-1);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            assertThatThrownBy(() -> JdbcEventStore.builder(pool).startupTimeout(Duration.ofSeconds(30)).build())
                    .isInstanceOfSatisfying(JdbcEventStoreException.class,
                            e -> assertThat(e.sqlState()).isEqualTo("3D000"))
                    .hasMessageContaining("refused the connection")
                    .hasMessageContaining("check the database name, user and password")
                    .hasMessageContaining("no_such_database")
                    .hasMessageNotContaining("did not answer within");
        }
    }

    @Test
    void the_start_timeout_is_checked_at_once() {
        JdbcEventStore.Builder builder = JdbcEventStore.builder(new PGSimpleDataSource());
        assertThatThrownBy(() -> builder.startupTimeout(Duration.ofSeconds(-1)))
                .hasMessage("startupTimeout must be between 0 and 1 hour, but was PT-1S");
        assertThatThrownBy(() -> builder.startupTimeout(Duration.ofHours(2)))
                .hasMessage("startupTimeout must be between 0 and 1 hour, but was PT2H");
    }

    private static HikariDataSource pool(int port) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:postgresql://localhost:" + port + "/postgres");
        config.setUsername("postgres");
        config.setMaximumPoolSize(4);
        config.setConnectionTimeout(1_000);
        // A node's pool must not fail its construction either while the database is down.
        config.setInitializationFailTimeout(-1);
        return new HikariDataSource(config);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
