package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.conformance.Events;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review: what else bounds, or fails to bound, a waiting caller's own write on PostgreSQL besides a lock: the
 * user's own per-statement timeout, and a wait for a pooled connection.
 */
class CallerDeadlineBoundsReviewTest {

    private final TableNames tables = JdbcFixtures.randomTables();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    private HikariDataSource pool(int size, long connectionTimeoutMillis) {
        return pool(size, connectionTimeoutMillis, null);
    }

    private HikariDataSource pool(int size, long connectionTimeoutMillis, String initSql) {
        HikariDataSource shared = PostgresServer.get().dataSource();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(shared.getJdbcUrl());
        config.setUsername(shared.getUsername());
        config.setPassword(shared.getPassword());
        config.setMaximumPoolSize(size);
        config.setConnectionTimeout(connectionTimeoutMillis);
        config.setPoolName("caller-deadline-bounds");
        config.setConnectionInitSql(initSql);
        HikariDataSource pool = new HikariDataSource(config);
        closing.add(pool);
        return pool;
    }

    @Test
    void the_user_s_query_timeout_still_bounds_a_caller_s_write_when_the_caller_has_more_time_left() throws Exception {
        HikariDataSource pool = PostgresServer.get().dataSource();
        JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true)
                .queryTimeout(Duration.ofSeconds(1)).build();
        closing.add(store);
        long elapsedMillis;
        Throwable thrown;
        try (Connection locker = pool.getConnection(); Statement statement = locker.createStatement()) {
            locker.setAutoCommit(false);
            statement.execute("LOCK TABLE " + tables.events() + " IN EXCLUSIVE MODE");
            CompletableFuture.delayedExecutor(8, TimeUnit.SECONDS).execute(() -> {
                try {
                    locker.commit();
                } catch (Exception e) {
                    // The test's own try block commits or closes it otherwise.
                }
            });
            long start = System.nanoTime();
            thrown = catchThrowable(() -> store.appendWithin(Events.append("a", ExpectedSequence.noStream(), "c-1", 1),
                    Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS));
            elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }
        System.out.println("A 20 s caller with queryTimeout(1 s), table locked for 8 s: answered after " + elapsedMillis
                + " ms with " + thrown);
        // Not timed: the driver's cancel takes a new connection to the server (a forked backend), seconds on a
        // loaded machine. Before the fix the write waited for the lock and was stored after 8 s.
        assertThat(thrown).as("cut by the store's query timeout of 1 s, though the caller had 20 s left")
                .hasMessageContaining("nothing of it was stored");
        assertThat(store.lastSequence(Events.stream("a"))).as("nothing stored").isEqualTo(-1);
    }

    @Test
    void a_write_the_database_s_own_statement_timeout_ends_is_reported_as_such_not_as_cut_at_the_caller_s_deadline()
            throws Exception {
        HikariDataSource pool = pool(4, 30_000, "SET statement_timeout = '700ms'");
        JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true).build();
        closing.add(store);
        HikariDataSource shared = PostgresServer.get().dataSource();
        List<Throwable> failures = new ArrayList<>();
        try (Connection locker = shared.getConnection(); Statement statement = locker.createStatement()) {
            locker.setAutoCommit(false);
            statement.execute("LOCK TABLE " + tables.events() + " IN EXCLUSIVE MODE");
            // A caller with 20 s left, that writes itself; then one without a deadline, written by a writer thread.
            failures.add(catchThrowable(() -> store.appendWithin(Events.append("a", ExpectedSequence.noStream(),
                    "c-1", 1), Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS)));
            failures.add(catchThrowable(() -> store.appendAsync(Events.append("b", ExpectedSequence.noStream(),
                    "c-2", 1)).get(30, TimeUnit.SECONDS)));
            // Three at once, which may share a transaction: each is written again behind a savepoint, and cancelled.
            List<CompletableFuture<AppendResult>> together = new ArrayList<>();
            for (String stream : List.of("c", "d", "e")) {
                together.add(store.appendAsync(Events.append(stream, ExpectedSequence.noStream(), "c-" + stream, 1)));
            }
            for (CompletableFuture<AppendResult> each : together) {
                failures.add(catchThrowable(() -> each.get(30, TimeUnit.SECONDS)));
            }
            locker.commit();
        }
        for (Throwable thrown : failures) {
            System.out.println("With the database's statement_timeout of 700 ms and the table locked: " + thrown);
            assertThat(thrown).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOf(JdbcEventStoreException.class)
                    .hasMessageContaining("was cancelled by the database itself")
                    .hasMessageContaining("statement_timeout")
                    .hasMessageContaining("nothing of it was stored")
                    .hasMessageNotContaining("cancelled at its caller's deadline");
        }
        for (String stream : List.of("a", "b", "c", "d", "e")) {
            assertThat(store.lastSequence(Events.stream(stream))).as("nothing stored in " + stream).isEqualTo(-1);
        }
    }

    @Test
    void a_caller_waiting_for_a_pooled_connection_is_not_held_past_its_deadline() throws Exception {
        HikariDataSource pool = pool(4, 4_000);
        JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true).build();
        closing.add(store);
        // The application holds every other connection of the pool (a burst of its own queries, say).
        List<Connection> held = new ArrayList<>();
        CompletableFuture<AppendResult> written;
        long returnedMillis;
        try {
            while (pool.getHikariPoolMXBean() == null || pool.getHikariPoolMXBean().getActiveConnections()
                    < pool.getMaximumPoolSize()) {
                held.add(pool.getConnection());
            }
            AppendRequest request = Events.append("a", ExpectedSequence.noStream(), "c-1", 1);
            long start = System.nanoTime();
            written = store.appendWithin(request, Duration.ofMillis(300));
            returnedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("appendWithin(300 ms) with the pool exhausted returned after " + returnedMillis
                    + " ms (" + (written.isDone() ? "done" : "pending") + ")");
            assertThat(returnedMillis).as("ms the caller's thread was held, with 300 ms left").isLessThan(1_500);
            // While the pool is still exhausted: the caller wrote its own append, so its outcome is known at once.
            Throwable thrown = catchThrowable(() -> written.get(1, TimeUnit.SECONDS));
            assertThat(thrown).as("the caller's append failed, not written").isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(JdbcEventStoreException.class)
                    .hasMessageContaining("was not written: its caller's deadline passed while it waited for a "
                            + "connection from the pool")
                    .hasMessageContaining("nothing of it was stored");
            assertThat(Thread.currentThread().isInterrupted()).as("the caller's thread is left uninterrupted")
                    .isFalse();
        } finally {
            for (Connection connection : held) {
                connection.close();
            }
        }
        assertThat(store.lastSequence(Events.stream("a"))).as("nothing stored").isEqualTo(-1);
        store.appendWithin(Events.append("a", ExpectedSequence.noStream(), "c-2", 1), Duration.ofSeconds(20))
                .get(20, TimeUnit.SECONDS);
        assertThat(store.lastSequence(Events.stream("a"))).as("the pool free again, the stream goes on").isZero();
    }
}
