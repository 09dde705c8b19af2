package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.conformance.Events;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * While the application holds every connection of the pool the store shares with it, callers with a short deadline,
 * callers with time to spare and callers with none append at once. A short-deadline caller that writes its own append
 * (PostgreSQL) is freed at its deadline, its append not written; the others, even those that shared its batch, are not
 * failed by its deadline: they wait for the pool, within its own connectionTimeout, and are written once the
 * application gives connections back. On H2 callers never write: every append waits for a writer thread.
 */
class ExhaustedPoolDeadlinesTest {

    private static final int POOL_SIZE = 4;
    private static final int CALLERS = 12;
    private static final Duration SHORT = Duration.ofMillis(300);

    @TempDir
    Path folder;

    private final TableNames tables = JdbcFixtures.randomTables();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private boolean postgres;

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        if (postgres) {
            JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
        }
    }

    private HikariDataSource pool(String database) {
        HikariConfig config = new HikariConfig();
        postgres = database.equals("postgres");
        if (postgres) {
            HikariDataSource shared = PostgresServer.get().dataSource();
            config.setJdbcUrl(shared.getJdbcUrl());
            config.setUsername(shared.getUsername());
            config.setPassword(shared.getPassword());
        } else {
            config.setJdbcUrl("jdbc:h2:file:" + folder.resolve("events").toAbsolutePath() + ";LOCK_TIMEOUT=10000");
            config.setUsername("sa");
        }
        config.setMaximumPoolSize(POOL_SIZE);
        // Far longer than any caller's deadline here: only the application's giving connections back ends the wait.
        config.setConnectionTimeout(30_000);
        config.setPoolName("exhausted-pool-deadlines");
        HikariDataSource pool = new HikariDataSource(config);
        closing.add(pool);
        return pool;
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void a_short_deadline_fails_only_its_own_append_and_the_others_are_written_once_the_pool_frees(String database)
            throws Exception {
        HikariDataSource pool = pool(database);
        JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true).build();
        closing.add(store);
        List<String> cutOthers = Collections.synchronizedList(new ArrayList<>());
        List<String> heldPastDeadline = Collections.synchronizedList(new ArrayList<>());
        int shortNotWritten = 0;
        int rounds = 3;
        for (int round = 0; round < rounds; round++) {
            List<Connection> held = new ArrayList<>();
            List<CompletableFuture<String>> outcomes = new ArrayList<>();
            try {
                while (pool.getHikariPoolMXBean() == null
                        || pool.getHikariPoolMXBean().getActiveConnections() < POOL_SIZE) {
                    held.add(pool.getConnection());
                }
                CyclicBarrier start = new CyclicBarrier(CALLERS);
                for (int c = 0; c < CALLERS; c++) {
                    String id = "r" + round + "-c" + c;
                    // Every third caller is in a hurry; the others have 20 s, or no deadline at all.
                    int kind = c % 3;
                    AppendRequest request = Events.append(id, ExpectedSequence.noStream(), "cmd-" + id, 1);
                    outcomes.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            start.await();
                            long called = System.nanoTime();
                            CompletableFuture<?> written = switch (kind) {
                                case 0 -> store.appendWithin(request, SHORT);
                                case 1 -> store.appendWithin(request, Duration.ofSeconds(20));
                                default -> store.appendAsync(request);
                            };
                            long heldMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - called);
                            if (kind == 0 && heldMillis > 1_500) {
                                heldPastDeadline.add(id + " held " + heldMillis + " ms");
                            }
                            written.get(60, TimeUnit.SECONDS);
                            return kind + " ok";
                        } catch (ExecutionException e) {
                            return kind + " " + e.getCause().getMessage();
                        } catch (Exception e) {
                            return kind + " " + e;
                        }
                    }, runnable -> new Thread(runnable).start()));
                }
                // The application keeps its connections a while (not a synchronisation: the outcomes are awaited).
                Thread.sleep(2_500);
            } finally {
                for (Connection connection : held) {
                    connection.close();
                }
            }
            for (int c = 0; c < CALLERS; c++) {
                String outcome = outcomes.get(c).get(90, TimeUnit.SECONDS);
                String id = "r" + round + "-c" + c;
                long last = store.lastSequence(Events.stream(id));
                assertThat(last).as(id + " stored exactly when reported so: " + outcome)
                        .isEqualTo(outcome.endsWith(" ok") ? 0 : -1);
                if (outcome.startsWith("0 ")) {
                    if (!outcome.endsWith(" ok")) {
                        shortNotWritten++;
                        assertThat(outcome).as(id + ", a short deadline's append").contains("was not written: its "
                                + "caller's deadline passed while it waited for a connection from the pool");
                    }
                } else if (!outcome.endsWith(" ok")) {
                    cutOthers.add(id + (outcome.startsWith("1 ") ? " (20 s deadline): " : " (no deadline): ")
                            + outcome.substring(2));
                }
            }
        }
        System.out.println(database + ": short deadlines not written: " + shortNotWritten + " of "
                + rounds * CALLERS / 3 + " (the others were queued for a writer thread); others failed: "
                + cutOthers.size() + " " + cutOthers + "; callers held past their deadline: " + heldPastDeadline);
        assertThat(heldPastDeadline).as("short-deadline callers held by the exhausted pool").isEmpty();
        assertThat(cutOthers).as("appends with time to spare failed by another caller's deadline").isEmpty();
        if (!postgres) {
            assertThat(shortNotWritten).as("on H2 no caller writes: every append waits for the pool").isZero();
        }
    }
}
