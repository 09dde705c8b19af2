package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The global log with a transaction that takes its position first and commits last: a reader must deliver its
 * event in its place (not skip it after delivering a later position), and must not wait for ever when it rolls
 * back instead.
 */
class LateCommitTest {

    abstract static class Scenario {

        private JdbcEventStore store;
        private CommitControl control;
        private final List<TrackedEvent> delivered = new CopyOnWriteArrayList<>();
        private final AtomicBoolean reading = new AtomicBoolean(true);
        private Runnable cleanup = () -> { };

        abstract DataSource dataSource();

        abstract TableNames tables();

        void cleanup(Runnable action) {
            cleanup = action;
        }

        private void open() {
            control = new CommitControl(dataSource(), tables().events());
            store = JdbcEventStore.builder(control).tableNames(tables()).createSchema(true).build();
        }

        @AfterEach
        void close() {
            reading.set(false);
            if (store != null) {
                store.close();
            }
            cleanup.run();
        }

        private CompletableFuture<Void> tail() {
            return CompletableFuture.runAsync(() -> {
                TrackingToken token = TrackingToken.START;
                while (reading.get()) {
                    List<TrackedEvent> batch = store.readAll(token, 10);
                    delivered.addAll(batch);
                    if (!batch.isEmpty()) {
                        token = batch.get(batch.size() - 1).token();
                    }
                }
            });
        }

        private List<String> deliveredAggregates() {
            return delivered.stream().map(tracked -> tracked.event().aggregateId()).toList();
        }

        @Test
        void an_event_that_commits_after_a_later_position_is_visible_is_delivered_in_its_place() throws Exception {
            open();
            CommitControl.Hold hold = control.holdNextInsert(true);
            CompletableFuture<Void> late = CompletableFuture.runAsync(() ->
                    store.append(append("late", ExpectedSequence.noStream(), "cmd-late", 1)));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            store.append(append("early", ExpectedSequence.noStream(), "cmd-early", 2));

            CompletableFuture<Void> reader = tail();
            Thread.sleep(300);
            assertThat(deliveredAggregates()).as("nothing after the open transaction is delivered before it")
                    .doesNotContain("early");
            hold.release.countDown();
            late.get(10, TimeUnit.SECONDS);
            waitFor(() -> delivered.size() >= 2);
            reading.set(false);
            reader.get(10, TimeUnit.SECONDS);
            assertThat(deliveredAggregates()).containsExactly("late", "early");
        }

        @Test
        void a_rolled_back_append_neither_appears_nor_stalls_the_reader() throws Exception {
            open();
            CommitControl.Hold hold = control.holdNextInsert(false);
            CompletableFuture<Void> doomed = CompletableFuture.runAsync(() ->
                    store.append(append("doomed", ExpectedSequence.noStream(), "cmd-doomed", 1)));
            assertThat(hold.inserted.await(10, TimeUnit.SECONDS)).isTrue();
            store.append(append("after", ExpectedSequence.noStream(), "cmd-after", 2));

            CompletableFuture<Void> reader = tail();
            hold.release.countDown();
            assertThatThrownBy(() -> doomed.get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOf(JdbcEventStoreException.class).hasMessageContaining("40001");
            waitFor(() -> !delivered.isEmpty());
            store.append(append("later", ExpectedSequence.noStream(), "cmd-later", 3));
            waitFor(() -> delivered.size() >= 2);
            reading.set(false);
            reader.get(10, TimeUnit.SECONDS);
            assertThat(deliveredAggregates()).containsExactly("after", "later");
        }

        private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
    }

    @Nested
    class OnH2 extends Scenario {
        @TempDir
        Path folder;
        private org.h2.jdbcx.JdbcConnectionPool pool;

        OnH2() {
            cleanup(() -> {
                if (pool != null) {
                    pool.dispose();
                }
            });
        }

        @Override
        DataSource dataSource() {
            if (pool == null) {
                pool = org.h2.jdbcx.JdbcConnectionPool.create("jdbc:h2:file:"
                        + folder.resolve("late-" + UUID.randomUUID()).toAbsolutePath(), "sa", "");
            }
            return pool;
        }

        @Override
        TableNames tables() {
            return TableNames.defaults();
        }
    }

    @Nested
    class OnPostgres extends Scenario {
        private final TableNames tables = JdbcFixtures.randomTables();

        OnPostgres() {
            cleanup(() -> JdbcFixtures.drop(dataSource(), tables));
        }

        @Override
        DataSource dataSource() {
            return PostgresServer.get().dataSource();
        }

        @Override
        TableNames tables() {
            return tables;
        }
    }
}
