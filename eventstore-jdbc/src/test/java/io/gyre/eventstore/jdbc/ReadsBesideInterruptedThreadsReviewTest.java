package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of H2 reads from threads that are never interrupted, beside threads that are: an interrupt inside a file
 * read closes the database file for every thread, and H2's {@code retry:} file system, which opens it again, gave up
 * on other threads' reads too ("Reading from file ... failed", "Block not found", {@code
 * OverlappingFileLockException}), so a request thread cancelled while it read failed other requests. With a cache
 * far smaller than the data, as a store larger than its cache has, most reads go to the file. Threads that are not
 * interrupted must have every read answered; the interrupted ones fail with an error that names the interrupt.
 */
class ReadsBesideInterruptedThreadsReviewTest {

    private static final int STREAMS = 4;
    private static final int EVENTS = 5_000;

    @TempDir
    Path folder;

    @Test
    void reads_of_threads_never_interrupted_are_answered_while_others_are_interrupted_inside_the_file() throws Exception {
        JdbcConnectionPool pool = JdbcConnectionPool.create("jdbc:h2:retry:" + folder.resolve("events").toAbsolutePath()
                + ";CACHE_SIZE=256;LOCK_TIMEOUT=10000", "sa", "");
        pool.setMaxConnections(16);
        JdbcEventStore store = JdbcEventStore.builder(pool).createSchema(true).build();
        try {
            fill(pool);
            AtomicBoolean stop = new AtomicBoolean();
            Map<String, Throwable> bystanderFailures = new ConcurrentHashMap<>();
            Map<String, Throwable> otherVictimFailures = new ConcurrentHashMap<>();
            AtomicLong bystanderReads = new AtomicLong();
            List<Thread> victims = new ArrayList<>();
            List<Thread> bystanders = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                victims.add(new Thread(() -> readUntil(stop, store, new AtomicLong(), otherVictimFailures, true),
                        "victim-" + i));
                bystanders.add(new Thread(() -> readUntil(stop, store, bystanderReads, bystanderFailures, false),
                        "bystander-" + i));
            }
            victims.forEach(Thread::start);
            bystanders.forEach(Thread::start);
            RandomInterrupts.interruptAtRandom(victims, Duration.ofSeconds(4), stop);
            for (Thread bystander : bystanders) {
                bystander.join(60_000);
            }

            assertThat(bystanderFailures.keySet()).as("failures of threads never interrupted").isEmpty();
            assertThat(bystanderReads.get()).as("reads of threads never interrupted").isPositive();
            assertThat(otherVictimFailures.keySet()).as("failures of interrupted threads that do not say so")
                    .isEmpty();
            // The store still answers everyone, with every stream whole.
            for (int i = 0; i < STREAMS; i++) {
                try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c" + i))) {
                    assertThat(events.count()).isEqualTo(EVENTS);
                }
            }
        } finally {
            store.close();
            pool.dispose();
        }
    }

    private static void readUntil(AtomicBoolean stop, JdbcEventStore store, AtomicLong reads,
                                  Map<String, Throwable> failures, boolean interrupted) {
        while (!stop.get()) {
            Thread.interrupted();
            StreamId stream = StreamId.of("Counter", "c" + ThreadLocalRandom.current().nextInt(STREAMS));
            try (Stream<StoredEvent> events = store.readStream(stream)) {
                events.count();
                store.lastSequence(stream);
                reads.incrementAndGet();
            } catch (RuntimeException e) {
                if (!interrupted || !RandomInterrupts.namesAnInterrupt(e)) {
                    failures.putIfAbsent(e.getClass().getName() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** Streams {@code c0} to {@code c3} of {@link #EVENTS} events of 300 characters each. */
    private static void fill(JdbcConnectionPool pool) throws Exception {
        try (Connection connection = pool.getConnection(); Statement insert = connection.createStatement()) {
            for (int i = 0; i < STREAMS; i++) {
                insert.execute("INSERT INTO gyre_events (aggregate_type, aggregate_id, sequence_number, event_id, "
                        + "command_id, event_type, payload, metadata, occurred_at) SELECT 'Counter', 'c" + i + "', x, "
                        + "'c" + i + "-event-' || x, 'c" + i + "-command-' || x, 'Added', '{\"note\":\"' || REPEAT('x', "
                        + "300) || '\"}', '{}', CURRENT_TIMESTAMP FROM SYSTEM_RANGE(0, " + (EVENTS - 1) + ") AS r(x)");
            }
        }
    }
}
