package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

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
import io.gyre.testmodel.Probe;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A {@code sendAndWait} caller that decides its own command (a cached, idle aggregate) also writes its append when a
 * group-commit writer's place is free. A write the database blocks (another transaction's lock) must not hold that
 * caller past its deadline: on PostgreSQL the write is bounded by it, cancelled and rolled back, so the caller is
 * answered at about its deadline, and nothing of the command is stored, neither half nor twice.
 */
class CallerWriteDeadlineTest {

    private static final Duration LOCK_HELD_AT_MOST = Duration.ofSeconds(6);

    private final TableNames tables = JdbcFixtures.randomTables();

    @AfterEach
    void drop() {
        Probe.reset();
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    @Test
    void a_caller_whose_own_write_is_blocked_by_a_lock_is_answered_at_its_deadline_and_nothing_is_stored()
            throws Exception {
        HikariDataSource shared = PostgresServer.get().dataSource();
        try (JdbcEventStore store = JdbcEventStore.builder(shared).tableNames(tables).createSchema(true).build();
             Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            node.commandGateway().sendAndWait(new Add("c", 1)); // cached and idle from here on
            AtomicReference<String> decidedBy = new AtomicReference<>();
            Probe.onHandle(message -> decidedBy.set(Thread.currentThread().getName()));

            Throwable thrown;
            long elapsedMillis;
            try (Connection locker = shared.getConnection(); Statement statement = locker.createStatement()) {
                locker.setAutoCommit(false);
                statement.execute("LOCK TABLE " + tables.events() + " IN EXCLUSIVE MODE");
                // Released after a while whatever happens, so that a caller held by the lock comes back.
                AtomicBoolean released = new AtomicBoolean();
                Runnable release = () -> {
                    if (released.compareAndSet(false, true)) {
                        commit(locker);
                    }
                };
                CompletableFuture.delayedExecutor(LOCK_HELD_AT_MOST.toMillis(), TimeUnit.MILLISECONDS).execute(release);
                long start = System.nanoTime();
                thrown = catchThrowable(() -> node.commandGateway().sendAndWait(new Add("c", 5),
                        Duration.ofMillis(500)));
                elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                release.run();
            }

            System.out.println("Caller answered after " + elapsedMillis + " ms (deadline 500 ms) with " + thrown);
            assertThat(decidedBy.get()).as("the caller decided its command, so it wrote the append itself")
                    .isEqualTo(Thread.currentThread().getName());
            assertThat(thrown).as("answered at its deadline").isInstanceOfAny(CommandOutcomeUnknownException.class,
                    CommandNotExecutedException.class);
            assertThat(elapsedMillis).as("ms until the caller was answered, with a 500 ms deadline and the table "
                    + "locked for up to " + LOCK_HELD_AT_MOST.toMillis() + " ms").isLessThan(2_000);

            // The lock is gone: the aggregate goes on from what is stored, which holds nothing of the cut write.
            Probe.reset();
            long total = node.commandGateway().sendAndWait(new Add("c", 10), Duration.ofSeconds(30));
            assertThat(added(node, store)).as("the cut write stored nothing").containsExactly(1L, 10L);
            assertThat(total).isEqualTo(11);
        }
    }

    private static List<Long> added(Gyre node, JdbcEventStore store) {
        List<Long> amounts = new ArrayList<>();
        long sequence = 0;
        try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c"))) {
            for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                assertThat(event.sequence()).as("contiguous").isEqualTo(sequence++);
                Object payload = node.serializer().deserialize(new SerializedValue(event.type(), event.payload()));
                if (payload instanceof Added added) {
                    amounts.add(added.amount());
                }
            }
        }
        return amounts;
    }

    private static void commit(Connection connection) {
        try {
            connection.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
