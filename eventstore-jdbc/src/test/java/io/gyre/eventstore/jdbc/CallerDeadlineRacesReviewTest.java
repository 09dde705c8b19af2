package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.conformance.Events;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review: a waiting caller's own write on PostgreSQL is bounded by its deadline through the driver's statement
 * timeout. Deadlines of a few milliseconds make the driver's cancel race with the statement's own completion, its
 * auto-commit, and the next use of the same pooled connection. Whatever the race, a write reported as "nothing of it
 * was stored" must not be stored (I8), a write reported done must be stored (I1), and a cancel must never reach an
 * append that had no deadline, on this connection or in this batch.
 */
class CallerDeadlineRacesReviewTest {

    private static final String NOTHING_STORED = "nothing of it was stored";

    private final TableNames tables = JdbcFixtures.randomTables();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        Collections.reverse(closing);
        for (AutoCloseable each : closing) {
            each.close();
        }
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    /** A pool of its own, small, so that every connection is used again and again by callers with and without a bound. */
    private HikariDataSource smallPool(int size) {
        HikariDataSource shared = PostgresServer.get().dataSource();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(shared.getJdbcUrl());
        config.setUsername(shared.getUsername());
        config.setPassword(shared.getPassword());
        config.setMaximumPoolSize(size);
        config.setConnectionTimeout(10_000);
        config.setPoolName("caller-deadline-races");
        HikariDataSource pool = new HikariDataSource(config);
        closing.add(pool);
        return pool;
    }

    private JdbcEventStore store(HikariDataSource pool, int writers) throws SQLException {
        JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true)
                .appendTransactions(writers).build();
        closing.add(store);
        slowInserts(pool);
        return store;
    }

    /**
     * Every INSERT into the events table sleeps 0 to 20 ms first (a trigger of the test's), so that deadlines of up to
     * 25 milliseconds fall before, during and at the very end of a statement, its auto-commit included.
     */
    private void slowInserts(HikariDataSource pool) throws SQLException {
        String function = "slow_" + tables.events().replace('.', '_');
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE FUNCTION " + function + "() RETURNS trigger AS $$ BEGIN "
                    + "PERFORM pg_sleep(random() * 0.02); RETURN NULL; END $$ LANGUAGE plpgsql");
            statement.execute("CREATE TRIGGER " + function + " BEFORE INSERT ON " + tables.events()
                    + " FOR EACH STATEMENT EXECUTE FUNCTION " + function + "()");
        }
        closing.add(0, () -> {
            try (Connection connection = PostgresServer.get().dataSource().getConnection();
                 Statement statement = connection.createStatement()) {
                statement.execute("DROP FUNCTION IF EXISTS " + function + "() CASCADE");
            }
        });
    }

    private static Thread started(Runnable body) {
        Thread thread = new Thread(body);
        thread.start();
        return thread;
    }

    @Test
    void a_write_cut_at_a_deadline_of_a_few_milliseconds_is_reported_not_stored_only_when_nothing_is_stored()
            throws Exception {
        JdbcEventStore store = store(smallPool(2), 2);
        int threads = 4;
        int perThread = 300;
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger cut = new AtomicInteger();
        AtomicInteger stored = new AtomicInteger();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            callers.add(started(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < perThread; i++) {
                    String id = "t" + thread + "-" + i;
                    // Now and then a decision too large for one statement: a transaction of several statements.
                    int events = random.nextInt(20) == 0 ? 501 : 1 + random.nextInt(3);
                    long[] numbers = new long[events];
                    AppendRequest request = Events.append(id, ExpectedSequence.noStream(), "cmd-" + id, numbers);
                    Duration timeLeft = Duration.ofNanos(500_000 + random.nextLong(25_000_000));
                    String outcome;
                    try {
                        store.appendWithin(request, timeLeft).get(30, TimeUnit.SECONDS);
                        outcome = "done";
                    } catch (ExecutionException e) {
                        outcome = String.valueOf(e.getCause().getMessage()).contains(NOTHING_STORED) ? "cut"
                                : "failed: " + e.getCause();
                    } catch (Exception e) {
                        outcome = "failed: " + e;
                    }
                    long last = store.lastSequence(Events.stream(id));
                    boolean commandStored = store.findCommand(Events.stream(id), "cmd-" + id).isPresent();
                    switch (outcome) {
                        case "done" -> {
                            stored.incrementAndGet();
                            if (last != events - 1 || !commandStored) {
                                violations.add(id + ": reported stored, but last sequence " + last + ", command "
                                        + (commandStored ? "" : "not ") + "stored");
                            }
                        }
                        case "cut" -> {
                            cut.incrementAndGet();
                            if (last != -1 || commandStored) {
                                violations.add(id + ": reported 'nothing stored' (cut at its deadline of "
                                        + timeLeft.toNanos() / 1000 + " us), but last sequence " + last
                                        + ", command " + (commandStored ? "" : "not ") + "stored");
                            }
                        }
                        default -> violations.add(id + ": " + outcome);
                    }
                }
            }));
        }
        for (Thread caller : callers) {
            caller.join();
        }
        System.out.println("Deadline races: " + stored + " stored, " + cut + " cut at their deadline, "
                + violations.size() + " violations");
        assertThat(cut.get()).as("the deadlines were short enough to cut some writes").isPositive();
        assertThat(violations).isEmpty();
    }

    @Test
    void appends_without_a_deadline_are_never_cut_by_other_callers_deadlines_on_shared_connections_or_batches()
            throws Exception {
        JdbcEventStore store = store(smallPool(2), 2);
        List<String> asyncFailures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger cut = new AtomicInteger();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        List<Thread> threads = new ArrayList<>();
        int asyncThreads = 4;
        long[] appended = new long[asyncThreads];
        for (int t = 0; t < asyncThreads; t++) {
            int thread = t;
            threads.add(started(() -> {
                String id = "async-" + thread;
                long next = 0;
                while (System.nanoTime() - until < 0) {
                    AppendRequest request = Events.append(id, next == 0 ? ExpectedSequence.noStream()
                            : ExpectedSequence.exactly(next - 1), "cmd-" + id + "-" + next, next);
                    try {
                        store.appendAsync(request).get(30, TimeUnit.SECONDS);
                        next++;
                    } catch (Exception e) {
                        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                        asyncFailures.add(id + " at " + next + ": " + cause);
                        // Nothing of it is stored when it says so; go on from what is stored.
                        next = store.lastSequence(Events.stream(id)) + 1;
                    }
                }
                appended[thread] = next;
            }));
        }
        for (int t = 0; t < 4; t++) {
            int thread = t;
            threads.add(started(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; System.nanoTime() - until < 0; i++) {
                    String id = "bounded-" + thread + "-" + i;
                    AppendRequest request = Events.append(id, ExpectedSequence.noStream(), "cmd-" + id, 1);
                    try {
                        store.appendWithin(request, Duration.ofNanos(500_000 + random.nextLong(25_000_000)))
                                .get(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        cut.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        System.out.println("Bounded callers cut " + cut + " times; appends without a deadline failed "
                + asyncFailures.size() + " times: " + asyncFailures.stream().limit(5).toList());
        for (int t = 0; t < asyncThreads; t++) {
            StreamId stream = Events.stream("async-" + t);
            assertThat(store.lastSequence(stream)).as("contiguous and complete: " + stream).isEqualTo(appended[t] - 1);
        }
        assertThat(cut.get()).as("some bounded writes were cut").isPositive();
        assertThat(asyncFailures).as("appends without a deadline that failed").isEmpty();
    }
}
