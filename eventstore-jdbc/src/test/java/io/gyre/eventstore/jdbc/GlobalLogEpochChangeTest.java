package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.internal.PostgresLogOrder;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A new log epoch started while appenders run, with commits delayed at random and some rolled back, and one append
 * held open between its insert and its commit while the repair starts: readers that tail the log from the start and
 * from a token taken before the repair get every committed event exactly once, in each aggregate's order, across
 * the epoch boundary. The epoch is forced by a token "kept elsewhere" ahead of the server, which needs no change to
 * the stored events, so the appenders can go on through the repair.
 */
class GlobalLogEpochChangeTest {

    private static final int APPENDERS = 4;
    private static final int AGGREGATES_PER_APPENDER = 3;

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private JdbcEventStore store;

    @AfterEach
    void close() throws InterruptedException {
        running.set(false);
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        if (store != null) {
            store.close();
        }
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void appends_with_late_commits_across_a_new_epoch_are_each_read_once_in_order() throws Exception {
        CommitControl control = new CommitControl(dataSource, tables.events());
        store = JdbcEventStore.builder(control).tableNames(tables).createSchema(true).build();
        control.randomly(0.1, 15);
        AtomicLong numbers = new AtomicLong();
        List<Future<?>> appenders = new ArrayList<>();
        for (int a = 0; a < APPENDERS; a++) {
            int appender = a;
            appenders.add(threads.submit(() -> appendUntilStopped(appender, numbers)));
        }
        Reader fromStart = new Reader(TrackingToken.START);
        threads.submit(fromStart);
        waitFor("some events before the repair", () -> fromStart.delivered.size() >= 100);
        Reader fromBefore = new Reader(fromStart.last());
        threads.submit(fromBefore);

        CommitControl.Hold held = control.holdNextInsert(true);
        assertThat(held.inserted.await(10, TimeUnit.SECONDS)).as("an append inserted and not committed").isTrue();
        long aheadElsewhere = PostgresLogOrder.commitOrder(0, 1L << 40);
        CompletableFuture<Integer> repair = CompletableFuture.supplyAsync(
                () -> GlobalLogRepair.startNewEpoch(dataSource, tables, aheadElsewhere), threads);
        // The repair waits for the held append; appends behind it wait for the repair.
        Thread.sleep(200);
        held.release.countDown();
        assertThat(repair.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        long atRepair = numbers.get();
        waitFor("appends after the repair", () -> numbers.get() >= atRepair + 200);
        running.set(false);
        for (Future<?> appender : appenders) {
            appender.get(30, TimeUnit.SECONDS);
        }

        List<String> stored = storedEventIds();
        assertThat(epochCounts()).as("events on both sides of the boundary").containsOnlyKeys(0, 1)
                .allSatisfy((epoch, count) -> assertThat(count).isPositive());
        waitFor("the reader from the start catches up", () -> fromStart.delivered.size() >= stored.size());
        waitFor("the reader from before the repair catches up",
                () -> fromBefore.delivered.size() >= stored.size() - fromBefore.skippedAtStart());
        Thread.sleep(300); // a repeat, if any, would show up in the meantime
        fromStart.stop();
        fromBefore.stop();

        assertThat(ids(fromStart.delivered)).as("every stored event, once").doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(stored);
        assertThat(ids(fromBefore.delivered)).as("every event after its token, once").doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(stored.subList(0, stored.size()).stream()
                        .filter(id -> !fromBefore.before.contains(id)).toList());
        assertPerAggregateOrder(fromStart.delivered);
        assertPerAggregateOrder(fromBefore.delivered);
        assertThat(store.globalLogStatus().state()).isEqualTo(GlobalLogStatus.State.MOVING);
    }

    private void appendUntilStopped(int appender, AtomicLong numbers) {
        long[] last = new long[AGGREGATES_PER_APPENDER];
        java.util.Arrays.fill(last, -1);
        int round = 0;
        while (running.get()) {
            int aggregate = round++ % AGGREGATES_PER_APPENDER;
            String id = "w" + appender + "-" + aggregate;
            ExpectedSequence expected = last[aggregate] < 0 ? ExpectedSequence.noStream()
                    : ExpectedSequence.exactly(last[aggregate]);
            try {
                store.append(append(id, expected, "c-" + id + "-" + round, numbers.incrementAndGet()));
                last[aggregate]++;
            } catch (RuntimeException rolledBack) {
                // Rolled back by the test: nothing stored, the same expectation holds next time.
            }
        }
    }

    /** Tails the log from a token, keeping what it delivered. */
    private final class Reader implements Runnable {
        final List<TrackedEvent> delivered = new CopyOnWriteArrayList<>();
        final Set<String> before = new HashSet<>();
        private final AtomicBoolean reading = new AtomicBoolean(true);
        private final TrackingToken start;

        Reader(TrackingToken start) {
            this.start = start;
        }

        @Override
        public void run() {
            if (!start.equals(TrackingToken.START)) {
                // What a reader from the start delivered up to this token is what this one must not repeat.
                TrackingToken token = TrackingToken.START;
                while (token.compareTo(start) < 0) {
                    List<TrackedEvent> batch = store.readAll(token, 100);
                    for (TrackedEvent event : batch) {
                        if (event.token().compareTo(start) <= 0) {
                            before.add(event.event().eventId());
                        }
                    }
                    token = batch.get(batch.size() - 1).token();
                }
            }
            TrackingToken token = start;
            while (reading.get()) {
                List<TrackedEvent> batch = store.readAll(token, 50);
                delivered.addAll(batch);
                if (!batch.isEmpty()) {
                    token = batch.get(batch.size() - 1).token();
                }
            }
        }

        TrackingToken last() {
            return delivered.get(delivered.size() - 1).token();
        }

        int skippedAtStart() {
            return before.size();
        }

        void stop() {
            reading.set(false);
        }
    }

    private static List<String> ids(List<TrackedEvent> events) {
        return events.stream().map(tracked -> tracked.event().eventId()).toList();
    }

    private static void assertPerAggregateOrder(List<TrackedEvent> events) {
        Map<String, Long> last = new HashMap<>();
        for (TrackedEvent tracked : events) {
            long previous = last.getOrDefault(tracked.event().aggregateId(), -1L);
            assertThat(tracked.event().sequence()).as("sequence of " + tracked.event().aggregateId())
                    .isGreaterThan(previous);
            last.put(tracked.event().aggregateId(), tracked.event().sequence());
        }
    }

    private List<String> storedEventIds() throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT event_id FROM " + tables.events()
                     + " ORDER BY log_epoch, transaction_id, global_position")) {
            while (rows.next()) {
                ids.add(rows.getString(1));
            }
        }
        return ids;
    }

    private Map<Integer, Integer> epochCounts() throws SQLException {
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

    private static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
