package io.gyre.eventstore.jdbc;

import static io.gyre.aggregate.AggregateLifecycle.apply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.GyreTransientException;
import io.gyre.Metadata;
import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.TargetAggregateId;
import io.gyre.eventstore.StreamId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of decide-then-append (issue 13), bad input through a node on H2: an event over the store's size limit and
 * an aggregate id over the SPI's limit fail their command at once, as non-transient, after one run of the handler (no
 * retry until the deadline), with nothing stored; the aggregate stays usable and the node keeps serving.
 */
class OversizedThroughTheNodeReviewTest {

    @TempDir
    Path folder;
    private JdbcConnectionPool pool;

    /** Handler runs of {@link Notebook} commands. */
    static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();

    /** @param id the pad */
    public record OpenPad(@TargetAggregateId String id) {
    }

    /** @param id the pad @param text what to note */
    public record Note(@TargetAggregateId String id, String text) {
    }

    /** @param id the pad */
    public record PadOpened(String id) {
    }

    /** @param id the pad @param text the note */
    public record Noted(String id, String text) {
    }

    /** Notes text of any length. */
    @Aggregate
    public static class Pad {
        @AggregateId
        private String id;
        private int notes;

        protected Pad() {
        }

        @CommandHandler
        Pad(OpenPad command) {
            apply(new PadOpened(command.id()));
        }

        @CommandHandler
        int handle(Note command) {
            RUNS.incrementAndGet();
            apply(new Noted(id, command.text()));
            return notes; // counts the note just applied
        }

        @EventSourcingHandler
        void on(PadOpened event) {
            id = event.id();
        }

        @EventSourcingHandler
        void on(Noted event) {
            notes++;
        }
    }

    @AfterEach
    void close() {
        if (pool != null) {
            pool.dispose();
        }
    }

    @Test
    void an_oversized_event_and_an_oversized_id_fail_at_once_and_the_node_goes_on() throws Exception {
        pool = JdbcConnectionPool.create("jdbc:h2:file:" + folder.resolve("events").toAbsolutePath(), "sa", "");
        try (JdbcEventStore store = JdbcEventStore.builder(pool).createSchema(true).maxEventBytes(1024).build();
             Gyre node = Gyre.builder().sharedEventStore(store).aggregate(Pad.class).start()) {
            node.commandGateway().sendAndWait(new OpenPad("c"));
            RUNS.set(0);

            long started = System.nanoTime();
            CompletableFuture<Object> big = node.commandGateway().send(new Note("c", "x".repeat(4_000)),
                    Metadata.empty(), Duration.ofSeconds(20));
            Throwable tooBig = failure(big);
            assertThat(tooBig).as("the oversized event's failure").isNotInstanceOf(GyreTransientException.class)
                    .hasMessageContaining("c");
            assertThat(RUNS.get()).as("handler runs of the oversized command: no retry").isEqualTo(1);

            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)).as("seconds to fail it")
                    .isLessThan(10);

            assertThatThrownBy(() -> node.commandGateway().send(new Note("x".repeat(StreamId.MAX_ID_LENGTH + 1),
                    "hello"))).as("an oversized id, refused as the command is sent")
                    .isInstanceOf(MissingTargetAggregateIdException.class).hasMessageContaining("256 characters");

            assertThat(store.lastSequence(StreamId.of("Pad", "c"))).as("nothing of it stored").isZero();
            assertThat(node.commandGateway().<Integer>sendAndWait(new Note("c", "short"), Duration.ofSeconds(20)))
                    .as("notes with this one: the refused one was never applied for good").isEqualTo(1);
        }
    }

    private static Throwable failure(CompletableFuture<Object> sent) throws Exception {
        try {
            sent.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("it succeeded");
    }
}
