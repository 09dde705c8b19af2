package io.gyre;

import static io.gyre.aggregate.AggregateLifecycle.apply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.TargetAggregateId;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.ReadEventStream;
import io.gyre.eventstore.StreamId;
import io.gyre.snapshot.InMemorySnapshotStore;
import io.gyre.snapshot.ReadSnapshotWithEvents;
import io.gyre.snapshot.Snapshot;
import io.gyre.snapshot.SnapshotStore;
import io.gyre.snapshot.SnapshotWithEvents;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** Snapshots with the in-memory stores: taken every N events, used, and never stored when they cannot be read. */
class GyreNodeSnapshotTest {

    private final InMemoryEventStore events = new InMemoryEventStore();
    private final InMemorySnapshotStore snapshots = new InMemorySnapshotStore();

    @Test
    void snapshot_settings_out_of_range_are_refused_at_once_naming_the_value() {
        Gyre.Builder builder = Gyre.builder().sharedEventStore(events).aggregate(Counter.class);
        assertThatThrownBy(() -> builder.snapshotEvery(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("snapshotEvery").hasMessageContaining("but was -1");
        assertThatThrownBy(() -> builder.snapshotEvery(Counter.class, 200_000_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was 200000000");
        assertThatThrownBy(() -> builder.snapshots(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("snapshotStore");
    }

    @Test
    void an_aggregate_loads_the_same_from_its_snapshot_as_from_its_events() {
        try (Gyre writer = Gyre.builder().sharedEventStore(events).aggregate(Counter.class).snapshots(snapshots)
                .snapshotEvery(5).start()) {
            writer.commandGateway().sendAndWait(new CreateCounter("c"));
            for (int i = 1; i <= 12; i++) {
                writer.commandGateway().sendAndWait(new Add("c", i));
            }
            awaitTrue(() -> snapshots.latest(StreamId.of("Counter", "c")).filter(s -> s.sequence() >= 9).isPresent());
        }
        try (Gyre withSnapshots = Gyre.builder().sharedEventStore(events).aggregate(Counter.class)
                .snapshots(snapshots).cacheSize(0).start();
             Gyre withoutSnapshots = Gyre.builder().sharedEventStore(events).aggregate(Counter.class).cacheSize(0)
                     .start()) {
            long fromSnapshot = withSnapshots.commandGateway().<Long>sendAndWait(new Add("c", 100));
            long fromEvents = withoutSnapshots.commandGateway().<Long>sendAndWait(new Add("c", 0));
            assertThat(fromSnapshot).isEqualTo(78 + 100).isEqualTo(fromEvents);
        }
    }

    @Test
    void a_snapshot_store_that_reads_snapshots_with_their_events_is_asked_once_per_load_with_the_configured_store() {
        try (Gyre writer = Gyre.builder().sharedEventStore(events).aggregate(Counter.class).snapshots(snapshots)
                .snapshotEvery(5).start()) {
            writer.commandGateway().sendAndWait(new CreateCounter("c"));
            for (int i = 1; i <= 12; i++) {
                writer.commandGateway().sendAndWait(new Add("c", i));
            }
            awaitTrue(() -> snapshots.latest(StreamId.of("Counter", "c")).filter(s -> s.sequence() >= 9).isPresent());
        }
        List<Object> together = new CopyOnWriteArrayList<>();
        List<StreamId> alone = new CopyOnWriteArrayList<>();
        class Together implements SnapshotStore, ReadSnapshotWithEvents {
            @Override
            public Optional<Snapshot> latest(StreamId stream) {
                alone.add(stream);
                return snapshots.latest(stream);
            }

            @Override
            public void store(Snapshot snapshot) {
                snapshots.store(snapshot);
            }

            @Override
            public Optional<SnapshotWithEvents> latestWithEvents(StreamId stream, ReadEventStream read) {
                together.add(read);
                Snapshot snapshot = snapshots.latest(stream).orElse(null);
                return Optional.of(new SnapshotWithEvents(snapshot, read.readStream(stream,
                        snapshot == null ? 0 : snapshot.sequence())));
            }
        }
        try (Gyre node = Gyre.builder().sharedEventStore(events).aggregate(Counter.class).snapshots(new Together())
                .snapshotEvery(100).cacheSize(0).start()) {
            assertThat(node.commandGateway().<Long>sendAndWait(new Add("c", 100))).isEqualTo(78 + 100);
            assertThat(node.commandGateway().<Long>sendAndWait(new Add("c", 1))).isEqualTo(78 + 101);
        }
        assertThat(together).as("one read per load, given the configured store itself, not a wrapper of it")
                .containsExactly(events, events);
        assertThat(alone).as("no separate read of the snapshot").isEmpty();
    }

    /** A note: an interface, so its JSON says nothing of the class to make. */
    public interface Note {
        String text();
    }

    /** The only note there is. */
    public record Text(String text) implements Note {
    }

    /** A state Jackson can write but not read back: the field's declared type names no class to make. */
    @Aggregate(name = "Notes")
    public static class Notes {
        @AggregateId
        private String id;
        private Note last;

        protected Notes() {
        }

        @CommandHandler
        Notes(Write command) {
            apply(new Written(command.id(), command.text()));
        }

        @CommandHandler
        String handle(Append command) {
            apply(new Written(command.id(), command.text()));
            return last.text();
        }

        @EventSourcingHandler
        void on(Written event) {
            id = event.id();
            last = new Text(event.text());
        }
    }

    /** Creates notes. */
    public record Write(@TargetAggregateId String id, String text) {
    }

    /** Adds a note; returns the last one. */
    public record Append(@TargetAggregateId String id, String text) {
    }

    /** A note was written. */
    public record Written(String id, String text) {
    }

    @Test
    void a_state_that_does_not_read_back_is_never_snapshotted_and_the_aggregate_still_loads() {
        List<String> readers = new CopyOnWriteArrayList<>();
        SnapshotStore watched = new SnapshotStore() {
            @Override
            public Optional<Snapshot> latest(StreamId stream) {
                readers.add(Thread.currentThread().getName());
                return snapshots.latest(stream);
            }

            @Override
            public void store(Snapshot snapshot) {
                snapshots.store(snapshot);
            }
        };
        try (Gyre node = Gyre.builder().name("notes").sharedEventStore(events).aggregate(Notes.class)
                .snapshots(watched).snapshotEvery(3).cacheSize(0).start()) {
            node.commandGateway().sendAndWait(new Write("n", "a"));
            node.commandGateway().sendAndWait(new Append("n", "b"));
            node.commandGateway().sendAndWait(new Append("n", "c"));
            // The third event asked for a snapshot; once its thread has started loading, closing waits for it.
            awaitTrue(() -> readers.contains("notes-snapshots"));
            assertThat(node.commandGateway().<String>sendAndWait(new Append("n", "d"))).isEqualTo("d");
        }
        assertThat(snapshots.size()).isZero();
    }

    @io.gyre.serialization.Revision(1)
    record Unregistered(String id) {
    }

    @Test
    void settings_for_classes_the_node_does_not_know_are_refused_at_start_naming_them() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Gyre.builder().sharedEventStore(events)
                        .aggregate(Counter.class).snapshotEvery(Notes.class, 10).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("snapshotEvery(Notes.class, ...)")
                .hasMessageContaining("is not a registered aggregate");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Gyre.builder().sharedEventStore(events)
                        .aggregate(Counter.class).upcaster(Unregistered.class, 0, json -> json).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("upcaster was registered for " + Unregistered.class.getName())
                .hasMessageContaining("not a registered event type");
    }

    private static void awaitTrue(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met within 30 s").isLessThan(deadline);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
