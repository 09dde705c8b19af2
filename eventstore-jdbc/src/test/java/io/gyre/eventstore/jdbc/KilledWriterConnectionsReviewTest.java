package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.SerializedValue;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of group commit (issue 13) on PostgreSQL: the server kills the store's connections
 * ({@code pg_terminate_backend}) again and again while closed-loop clients send commands, so writers lose their
 * connection before, during and after a shared transaction's commit. Every caller is answered; an acknowledged
 * command is stored exactly once, one reported "not executed" not at all, nothing is stored twice and each stream
 * stays contiguous and in send order. Gyre retries the transient failures under the same command id.
 */
class KilledWriterConnectionsReviewTest {

    private static final String APPLICATION = "gyre-review-killed";
    private static final int CLIENTS = 8;

    private final TableNames tables = JdbcFixtures.randomTables();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private HikariDataSource pool;

    @AfterEach
    void close() throws InterruptedException {
        running.set(false);
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        if (pool != null) {
            pool.close();
        }
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    @Test
    void connections_killed_under_load_lose_nothing_double_nothing_and_answer_everyone() throws Exception {
        HikariDataSource shared = PostgresServer.get().dataSource();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(shared.getJdbcUrl());
        config.setUsername(shared.getUsername());
        config.setPassword(shared.getPassword());
        config.setMaximumPoolSize(8);
        config.setConnectionTimeout(5_000);
        config.addDataSourceProperty("ApplicationName", APPLICATION);
        pool = new HikariDataSource(config);
        Map<Long, String> outcomes = new ConcurrentHashMap<>();
        AtomicInteger kills = new AtomicInteger();
        try (JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true).build()) {
            Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(2).start();
            try {
                for (int c = 0; c < CLIENTS; c++) {
                    node.commandGateway().sendAndWait(new CreateCounter("c" + c));
                }
                long started = System.nanoTime();
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    clients.add(threads.submit(() -> {
                        for (long n = 1; running.get(); n++) {
                            long amount = client * 1_000_000L + n;
                            outcomes.put(amount, outcome(() -> node.commandGateway().send(
                                    new Add("c" + client, amount), Metadata.empty(), Duration.ofSeconds(20))
                                    .get(60, TimeUnit.SECONDS)));
                        }
                        return null;
                    }));
                }
                Future<?> killer = threads.submit(() -> {
                    try (Connection admin = shared.getConnection(); Statement statement = admin.createStatement()) {
                        for (int round = 0; round < 40; round++) {
                            Thread.sleep(15 + round % 4 * 10);
                            try (ResultSet killed = statement.executeQuery("SELECT count(*) FILTER (WHERE "
                                    + "pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '"
                                    + APPLICATION + "' AND state <> 'idle'")) {
                                killed.next();
                                kills.addAndGet(killed.getInt(1));
                            }
                        }
                    }
                    return null;
                });
                killer.get(60, TimeUnit.SECONDS);
                Thread.sleep(500); // commands after the last kill
                running.set(false);
                for (Future<?> client : clients) {
                    client.get(120, TimeUnit.SECONDS);
                }
                System.out.println("Clients ran for " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                        + " ms");
            } finally {
                node.close();
            }
            Map<String, Long> counts = new HashMap<>();
            outcomes.values().forEach(kind -> counts.merge(kind.startsWith("failed") ? "failed" : kind, 1L, Long::sum));
            System.out.println("Killed " + kills + " busy connections; outcomes: " + counts);
            assertThat(kills.get()).as("connections killed while busy").isPositive();

            Map<Long, Integer> stored = new HashMap<>();
            for (int c = 0; c < CLIENTS; c++) {
                List<Long> amounts = new ArrayList<>();
                long sequence = 0;
                try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c" + c))) {
                    for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                        assertThat(event.sequence()).as("contiguous").isEqualTo(sequence++);
                        Object payload = node.serializer().deserialize(new SerializedValue(event.type(),
                                event.payload()));
                        if (payload instanceof Added added) {
                            amounts.add(added.amount());
                            stored.merge(added.amount(), 1, Integer::sum);
                        }
                    }
                }
                assertThat(amounts).as("c" + c + " in send order").isSorted();
            }
            assertThat(stored.values()).as("nothing stored twice").allMatch(times -> times == 1);
            for (Map.Entry<Long, String> each : outcomes.entrySet()) {
                long amount = each.getKey();
                switch (each.getValue()) {
                    case "ok" -> assertThat(stored).as("acknowledged " + amount).containsKey(amount);
                    case "not executed" -> assertThat(stored).as("not executed " + amount).doesNotContainKey(amount);
                    case "unknown" -> { }
                    default -> throw new AssertionError(amount + ": " + each.getValue());
                }
            }
        }
    }

    private interface Send {
        Object run() throws Exception;
    }

    private static String outcome(Send send) throws InterruptedException {
        try {
            send.run();
            return "ok";
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CommandNotExecutedException) {
                return "not executed";
            }
            if (e.getCause() instanceof CommandOutcomeUnknownException) {
                return "unknown";
            }
            return "failed: " + e.getCause();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return "failed: " + e;
        }
    }
}
