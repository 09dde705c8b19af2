package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.gyre.Gyre;
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
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review: waiting callers with short, varied deadlines and asynchronous senders on one PostgreSQL node, while
 * another transaction locks the events table again and again. Waiting callers write their own appends (bounded by
 * their deadlines, cut, their batch-mates queued again), writer threads write the rest. Whatever each caller was
 * told, the store must agree: an acknowledged command stored once, one reported "not executed" not at all, streams
 * contiguous and in each sender's order (I1, I2, I3, I8).
 */
class DeadlinesUnderLocksReviewTest {

    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    private enum Told { DONE, NOT_EXECUTED, UNKNOWN, OTHER }

    @Test
    void what_each_caller_is_told_agrees_with_the_store_while_locks_come_and_go() throws Exception {
        HikariDataSource shared = PostgresServer.get().dataSource();
        int waiting = 6;
        int async = 2;
        // Per counter: amount (unique and increasing in send order) -> what its sender was told.
        Map<String, Map<Long, Told>> told = new ConcurrentHashMap<>();
        List<String> others = Collections.synchronizedList(new ArrayList<>());
        try (JdbcEventStore store = JdbcEventStore.builder(shared).tableNames(tables).createSchema(true).build();
             Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(4).start()) {
            for (int c = 0; c < waiting + async; c++) {
                node.commandGateway().sendAndWait(new CreateCounter("c" + c));
                told.put("c" + c, new ConcurrentHashMap<>());
            }
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < waiting; c++) {
                String id = "c" + c;
                threads.add(started(() -> {
                    for (long amount = 1; running.get(); amount++) {
                        Duration timeout = Duration.ofMillis(30 + ThreadLocalRandom.current().nextInt(400));
                        Told outcome;
                        try {
                            node.commandGateway().sendAndWait(new Add(id, amount), timeout);
                            outcome = Told.DONE;
                        } catch (CommandNotExecutedException e) {
                            outcome = Told.NOT_EXECUTED;
                        } catch (CommandOutcomeUnknownException e) {
                            outcome = Told.UNKNOWN;
                        } catch (RuntimeException e) {
                            outcome = Told.OTHER;
                            others.add(id + "/" + amount + ": " + e);
                        }
                        told.get(id).put(amount, outcome);
                    }
                }));
            }
            for (int c = waiting; c < waiting + async; c++) {
                String id = "c" + c;
                threads.add(started(() -> {
                    for (long amount = 1; running.get(); ) {
                        List<CompletableFuture<Object>> burst = new ArrayList<>();
                        List<Long> amounts = new ArrayList<>();
                        for (int i = 0; i < 10; i++, amount++) {
                            amounts.add(amount);
                            burst.add(node.commandGateway().send(new Add(id, amount), io.gyre.Metadata.empty(),
                                    Duration.ofSeconds(20)));
                        }
                        for (int i = 0; i < burst.size(); i++) {
                            Told outcome;
                            try {
                                burst.get(i).get(60, TimeUnit.SECONDS);
                                outcome = Told.DONE;
                            } catch (java.util.concurrent.ExecutionException e) {
                                outcome = e.getCause() instanceof CommandNotExecutedException ? Told.NOT_EXECUTED
                                        : e.getCause() instanceof CommandOutcomeUnknownException ? Told.UNKNOWN
                                        : Told.OTHER;
                                if (outcome == Told.OTHER) {
                                    others.add(id + "/" + amounts.get(i) + ": " + e.getCause());
                                }
                            } catch (Exception e) {
                                outcome = Told.OTHER;
                                others.add(id + "/" + amounts.get(i) + ": " + e);
                            }
                            told.get(id).put(amounts.get(i), outcome);
                        }
                    }
                }));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            int locks = 0;
            while (System.nanoTime() - until < 0) {
                Thread.sleep(ThreadLocalRandom.current().nextInt(100, 400));
                try (Connection locker = shared.getConnection(); Statement statement = locker.createStatement()) {
                    locker.setAutoCommit(false);
                    statement.execute("LOCK TABLE " + tables.events() + " IN EXCLUSIVE MODE");
                    Thread.sleep(ThreadLocalRandom.current().nextInt(100, 700));
                    locker.commit();
                    locks++;
                }
            }
            running.set(false);
            for (Thread thread : threads) {
                thread.join(120_000);
            }
            // Commands told "outcome unknown" may still be committing: let the store's writers finish.
            Thread.sleep(2_000);

            List<String> violations = new ArrayList<>();
            Map<Told, Integer> counts = new java.util.EnumMap<>(Told.class);
            for (Map.Entry<String, Map<Long, Told>> counter : told.entrySet()) {
                List<Long> stored = added(node, store, counter.getKey(), violations);
                Set<Long> storedSet = new java.util.HashSet<>(stored);
                if (storedSet.size() != stored.size()) {
                    violations.add(counter.getKey() + ": an amount stored twice: " + stored);
                }
                for (int i = 1; i < stored.size(); i++) {
                    if (stored.get(i) < stored.get(i - 1) && counter.getKey().compareTo("c" + waiting) < 0) {
                        violations.add(counter.getKey() + ": stored out of send order: " + stored);
                        break;
                    }
                }
                for (Map.Entry<Long, Told> each : counter.getValue().entrySet()) {
                    counts.merge(each.getValue(), 1, Integer::sum);
                    boolean isStored = storedSet.contains(each.getKey());
                    if (each.getValue() == Told.DONE && !isStored) {
                        violations.add(counter.getKey() + "/" + each.getKey() + ": acknowledged, not stored");
                    }
                    if (each.getValue() == Told.NOT_EXECUTED && isStored) {
                        violations.add(counter.getKey() + "/" + each.getKey() + ": 'not executed', but stored");
                    }
                }
            }
            System.out.println("Deadlines under " + locks + " locks: " + counts + "; other failures "
                    + others.stream().limit(5).toList() + "; violations " + violations.stream().limit(10).toList());
            assertThat(violations).isEmpty();
            assertThat(others).as("failures other than the two deadline outcomes").isEmpty();
        }
    }

    private static Thread started(Runnable body) {
        Thread thread = new Thread(body);
        thread.start();
        return thread;
    }

    private static List<Long> added(Gyre node, JdbcEventStore store, String id, List<String> violations) {
        List<Long> amounts = new ArrayList<>();
        long sequence = 0;
        try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", id))) {
            for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                if (event.sequence() != sequence++) {
                    violations.add(id + ": sequence " + event.sequence() + " where " + (sequence - 1) + " was due");
                }
                Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                if (payload instanceof Added added) {
                    amounts.add(added.amount());
                }
            }
        }
        return amounts;
    }
}
