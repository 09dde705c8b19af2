package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.GyreNonTransientException;
import io.gyre.Metadata;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.internal.PostgresLogOrder;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the log epoch (issue 14): the repair run three times at once (as from several nodes' start scripts) while
 * a node keeps appending through group commit and a reader tails the log from the start. All three agree on one new
 * epoch, none starts a second, and the reader gets every stored event once, in each aggregate's order, across the
 * boundary. And the repair pointed at an H2 database says what is wrong.
 */
class ConcurrentEpochRepairsReviewTest {

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final AtomicBoolean running = new AtomicBoolean(true);

    @TempDir
    Path folder;

    @AfterEach
    void close() throws InterruptedException {
        running.set(false);
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void three_repairs_at_once_under_appends_start_one_epoch_and_the_log_reads_every_event_once_in_order()
            throws Exception {
        try (JdbcEventStore store = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
             Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(2).start()) {
            for (int c = 0; c < 6; c++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + c));
            }
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                String id = "c" + c;
                clients.add(threads.submit(() -> {
                    for (long n = 1; running.get(); n++) {
                        node.commandGateway().send(new Add(id, n), Metadata.empty(), Duration.ofSeconds(60))
                                .get(60, TimeUnit.SECONDS);
                    }
                    return null;
                }));
            }
            List<TrackedEvent> delivered = new ArrayList<>();
            Future<?> reader = threads.submit(() -> {
                TrackingToken token = TrackingToken.START;
                while (true) {
                    List<TrackedEvent> batch = store.readAll(token, 100);
                    synchronized (delivered) {
                        delivered.addAll(batch);
                    }
                    if (!batch.isEmpty()) {
                        token = batch.get(batch.size() - 1).token();
                    } else if (!running.get()) {
                        return null;
                    }
                }
            });
            Thread.sleep(700);
            // A token kept elsewhere, ahead of the server: the log needs a new epoch.
            long aheadElsewhere = PostgresLogOrder.commitOrder(0, 1L << 40);
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Integer>> repairs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                repairs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return GlobalLogRepair.startNewEpoch(dataSource, tables, aheadElsewhere);
                }, threads));
            }
            go.countDown();
            List<Integer> epochs = new ArrayList<>();
            for (CompletableFuture<Integer> repair : repairs) {
                epochs.add(repair.get(60, TimeUnit.SECONDS));
            }
            assertThat(epochs).as("the epoch each repair reports").containsOnly(1);
            Thread.sleep(700);
            running.set(false);
            for (Future<?> client : clients) {
                client.get(60, TimeUnit.SECONDS);
            }
            reader.get(60, TimeUnit.SECONDS);
            // The last appends may have committed after the reader's last empty read.
            TrackingToken token = delivered.isEmpty() ? TrackingToken.START
                    : delivered.get(delivered.size() - 1).token();
            for (List<TrackedEvent> batch; !(batch = store.readAll(token, 100)).isEmpty(); ) {
                delivered.addAll(batch);
                token = batch.get(batch.size() - 1).token();
            }
            assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables, aheadElsewhere))
                    .as("a repair run again later").isEqualTo(1);

            Map<Integer, Integer> epochCounts = epochCounts();
            assertThat(epochCounts).as("events on both sides of the boundary, of epochs 0 and 1 only")
                    .containsOnlyKeys(0, 1).allSatisfy((epoch, count) -> assertThat(count).isPositive());
            List<String> ids = delivered.stream().map(tracked -> tracked.event().eventId()).toList();
            assertThat(ids).as("every event once").doesNotHaveDuplicates()
                    .hasSize(epochCounts.values().stream().mapToInt(Integer::intValue).sum());
            Map<String, Long> last = new HashMap<>();
            for (TrackedEvent tracked : delivered) {
                long previous = last.getOrDefault(tracked.event().aggregateId(), -1L);
                assertThat(tracked.event().sequence()).as(tracked.event().aggregateId()).isEqualTo(previous + 1);
                last.put(tracked.event().aggregateId(), tracked.event().sequence());
            }
        }
    }

    @Test
    void the_repair_pointed_at_an_h2_database_says_it_repairs_postgresql_only() {
        JdbcConnectionPool h2 = JdbcConnectionPool.create("jdbc:h2:file:" + folder.resolve("events").toAbsolutePath(),
                "sa", "");
        try {
            JdbcEventStore.builder(h2).createSchema(true).build().close();
            assertThatThrownBy(() -> GlobalLogRepair.startNewEpoch(h2, TableNames.defaults()))
                    .isInstanceOf(GyreNonTransientException.class).hasMessageContaining("PostgreSQL event stores only")
                    .hasMessageContaining("H2");
        } finally {
            h2.dispose();
        }
    }

    private Map<Integer, Integer> epochCounts() throws Exception {
        Map<Integer, Integer> counts = new HashMap<>();
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT log_epoch, COUNT(*) FROM " + tables.events()
                     + " GROUP BY log_epoch")) {
            while (rows.next()) {
                counts.put(rows.getInt(1), rows.getInt(2));
            }
        }
        return counts;
    }
}
