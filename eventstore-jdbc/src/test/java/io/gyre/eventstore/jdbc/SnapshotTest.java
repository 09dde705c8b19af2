package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.snapshot.Snapshot;
import io.gyre.snapshot.SnapshotStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots through a node's public API on a real database: taken in the background every N events, used by the
 * next load (which then reads only the events from the snapshot's own on), and ignored whenever they cannot be
 * trusted (another version of the aggregate class, a payload that does not read, a stream changed under them), in
 * which case the aggregate loads from its events with the same state.
 */
class SnapshotTest {

    private static final StreamId LEDGER = StreamId.of("Ledger", "ledger-1");
    private static final int EVERY = 10;
    private static final int DEPOSITS = 25;
    /** Opened, then one event per deposit of 1..25 cents. */
    private static final long LAST_SEQUENCE = DEPOSITS;
    private static final long BALANCE = DEPOSITS * (DEPOSITS + 1) / 2;

    abstract static class Scenario {

        private TestDatabase database;
        private JdbcEventStore store;
        private Writers snapshots;

        abstract TestDatabase open();

        @BeforeEach
        void start() {
            database = open();
            store = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).createSchema(true)
                    .build();
            snapshots = new Writers(store.snapshots());
        }

        @AfterEach
        void close() {
            store.close();
            database.close();
        }

        /** Writes the ledger through a node that snapshots every 10 events, and returns the latest snapshot. */
        private Snapshot writeLedgerAndWaitForItsSnapshot() {
            try (Gyre writer = node(store)) {
                writer.commandGateway().sendAndWait(new Ledger.Open(LEDGER.aggregateId()));
                for (int cents = 1; cents <= DEPOSITS; cents++) {
                    writer.commandGateway().sendAndWait(new Ledger.Deposit(LEDGER.aggregateId(), cents));
                }
                // The 20th event crossed the last interval: a snapshot at sequence 19 or later (the background
                // thread snapshots whatever is stored when it runs).
                return waitFor(() -> store.snapshots().latest(LEDGER).filter(s -> s.sequence() >= 2 * EVERY - 1));
            }
        }

        private Gyre node(EventStore events) {
            return Gyre.builder().name("snapshots").sharedEventStore(events).aggregate(Ledger.class)
                    .snapshots(snapshots).snapshotEvery(Ledger.class, EVERY).start();
        }

        @Test
        void a_snapshot_is_taken_in_the_background_and_the_next_load_reads_only_the_events_from_it_on() {
            Snapshot snapshot = writeLedgerAndWaitForItsSnapshot();
            assertThat(snapshot.type()).isEqualTo(Ledger.class.getName());
            assertThat(snapshot.lastEventId()).isEqualTo(eventAt(snapshot.sequence()).eventId());
            assertThat(snapshots.threads).as("written by the node's snapshot thread, never a command's").isNotEmpty()
                    .allSatisfy(thread -> assertThat(thread).isEqualTo("snapshots-snapshots"));

            Reads reads = new Reads(store);
            try (Gyre reader = node(reads)) {
                assertThat(reader.commandGateway().<Long>sendAndWait(new Ledger.Balance(LEDGER.aggregateId())))
                        .isEqualTo(BALANCE);
            }
            assertThat(reads.from).as("one read, from the snapshot's own event (checked, not applied) on")
                    .containsExactly(snapshot.sequence());
            assertThat(reads.events.get()).isEqualTo(LAST_SEQUENCE - snapshot.sequence() + 1);
        }

        @Test
        void a_snapshot_written_by_another_revision_of_the_class_is_ignored_and_never_read() throws SQLException {
            Snapshot snapshot = writeLedgerAndWaitForItsSnapshot();
            // A payload that this class could read, with a balance no event ever made: reading it would show.
            update("snapshot_revision = snapshot_revision + 1, payload = " + json(), withBalance(snapshot, 999_999));

            assertLoadedFromEventsWithTheRightBalance();
        }

        @Test
        void a_snapshot_written_by_a_class_with_other_fields_is_ignored_and_never_read() throws SQLException {
            Snapshot snapshot = writeLedgerAndWaitForItsSnapshot();
            update("shape_hash = '00000000000000000000000000000000', payload = " + json(),
                    withBalance(snapshot, 999_999));

            assertLoadedFromEventsWithTheRightBalance();
        }

        @Test
        void a_snapshot_that_does_not_deserialize_is_skipped_and_the_aggregate_loads_from_its_events()
                throws SQLException {
            writeLedgerAndWaitForItsSnapshot();
            update("payload = " + json(), "{\"balance\": \"a lot\", \"id\": \"ledger-1\"}");

            assertLoadedFromEventsWithTheRightBalance();
        }

        @Test
        void a_snapshot_taken_after_an_event_the_stream_no_longer_holds_is_ignored() throws SQLException {
            writeLedgerAndWaitForItsSnapshot();
            update("last_event_id = ?", "an-event-lost-with-the-tail");

            assertLoadedFromEventsWithTheRightBalance();
        }

        @Test
        void the_store_keeps_a_later_snapshot_of_the_same_version_and_lets_another_version_replace_it() {
            StreamId stream = StreamId.of("Ledger", "kept");
            Snapshot later = new Snapshot(stream, 20, "e-20", "a.Ledger", 1, "shape-1", "{\"n\":20}",
                    Instant.parse("2026-01-01T00:00:20Z"));
            store.snapshots().store(later);
            store.snapshots().store(new Snapshot(stream, 10, "e-10", "a.Ledger", 1, "shape-1", "{\"n\":10}",
                    Instant.parse("2026-01-01T00:00:30Z")));
            // Compared by the event each was taken after: PostgreSQL's jsonb stores the payload reformatted.
            assertThat(store.snapshots().latest(stream).map(Snapshot::lastEventId)).as("a slower writer's older "
                    + "snapshot").contains(later.lastEventId());

            Snapshot otherVersion = new Snapshot(stream, 5, "e-5", "a.Ledger", 2, "shape-2", "{\"n\":5}",
                    Instant.parse("2026-01-01T00:00:40Z"));
            store.snapshots().store(otherVersion);
            assertThat(store.snapshots().latest(stream).map(Snapshot::lastEventId))
                    .as("another version's, whatever its sequence").contains(otherVersion.lastEventId());
            assertThat(store.snapshots().latest(StreamId.of("Other", "kept"))).as("keyed by type and id").isEmpty();
        }

        private void assertLoadedFromEventsWithTheRightBalance() {
            Reads reads = new Reads(store);
            try (Gyre reader = node(reads)) {
                assertThat(reader.commandGateway().<Long>sendAndWait(new Ledger.Balance(LEDGER.aggregateId())))
                        .isEqualTo(BALANCE);
            }
            assertThat(reads.from).as("the aggregate's load ends with a read of all its events").isNotEmpty();
            assertThat(reads.from.get(reads.from.size() - 1)).isZero();
        }

        @Test
        void a_node_on_the_store_itself_reads_the_snapshot_together_with_the_events_after_it() throws SQLException {
            Snapshot snapshot = writeLedgerAndWaitForItsSnapshot();
            // A balance no event made, in a snapshot this class reads: the balance shows the snapshot was used.
            update("payload = " + json(), withBalance(snapshot, 1_000_000));
            long after = 0;
            for (long cents = snapshot.sequence() + 1; cents <= LAST_SEQUENCE; cents++) {
                after += cents;
            }
            assertThat(balanceThroughTheStoreItself()).isEqualTo(1_000_000 + after);
        }

        @Test
        void a_node_on_the_store_itself_ignores_a_snapshot_of_another_revision_read_with_the_events()
                throws SQLException {
            Snapshot snapshot = writeLedgerAndWaitForItsSnapshot();
            update("snapshot_revision = snapshot_revision + 1, payload = " + json(), withBalance(snapshot, 999_999));
            assertThat(balanceThroughTheStoreItself()).isEqualTo(BALANCE);
        }

        @Test
        void a_node_on_the_store_itself_ignores_a_snapshot_taken_after_an_event_the_stream_no_longer_holds()
                throws SQLException {
            Snapshot snapshot = writeLedgerAndWaitForItsSnapshot();
            update("last_event_id = 'an-event-lost-with-the-tail', payload = " + json(),
                    withBalance(snapshot, 999_999));
            assertThat(balanceThroughTheStoreItself()).isEqualTo(BALANCE);
        }

        @Test
        void a_node_on_the_store_itself_skips_a_snapshot_that_does_not_deserialize() throws SQLException {
            writeLedgerAndWaitForItsSnapshot();
            update("payload = " + json(), "{\"balance\": \"a lot\", \"id\": \"ledger-1\"}");
            assertThat(balanceThroughTheStoreItself()).isEqualTo(BALANCE);
        }

        /**
         * The ledger's balance through a node on the store and its own snapshot store, unwrapped: on PostgreSQL the
         * node then reads the snapshot and the events after it in one query ({@code ReadSnapshotWithEvents}).
         */
        private long balanceThroughTheStoreItself() {
            try (Gyre reader = Gyre.builder().name("itself").sharedEventStore(store).aggregate(Ledger.class)
                    .snapshots(store.snapshots()).snapshotEvery(Ledger.class, EVERY).start()) {
                return reader.commandGateway().<Long>sendAndWait(new Ledger.Balance(LEDGER.aggregateId()));
            }
        }

        private StoredEvent eventAt(long sequence) {
            try (Stream<StoredEvent> events = store.readStream(LEDGER, sequence)) {
                return events.findFirst().orElseThrow();
            }
        }

        private String json() {
            return database.postgres() ? "CAST(? AS jsonb)" : "?";
        }

        private static String withBalance(Snapshot snapshot, long balance) {
            String payload = snapshot.payload().replaceFirst("\"balance\"\\s*:\\s*\\d+", "\"balance\": " + balance);
            assertThat(payload).isNotEqualTo(snapshot.payload());
            return payload;
        }

        /** Changes the stored snapshot behind the store's back, as a bug, an old version or a restore would. */
        private void update(String assignments, String parameter) throws SQLException {
            try (Connection connection = database.dataSource().getConnection();
                 PreparedStatement update = connection.prepareStatement("UPDATE " + database.tables().snapshots()
                         + " SET " + assignments + " WHERE aggregate_type = ? AND aggregate_id = ?")) {
                update.setString(1, parameter);
                update.setString(2, LEDGER.aggregateType());
                update.setString(3, LEDGER.aggregateId());
                assertThat(update.executeUpdate()).isEqualTo(1);
            }
        }
    }

    /** Remembers which threads write snapshots. */
    private static final class Writers implements SnapshotStore {
        final List<String> threads = new CopyOnWriteArrayList<>();
        private final SnapshotStore delegate;

        Writers(SnapshotStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<Snapshot> latest(StreamId stream) {
            return delegate.latest(stream);
        }

        @Override
        public void store(Snapshot snapshot) {
            threads.add(Thread.currentThread().getName());
            delegate.store(snapshot);
        }
    }

    /** Counts what loads read: the first sequence number of each stream read, and the events read. */
    private static final class Reads extends ForwardingEventStore {
        final List<Long> from = new CopyOnWriteArrayList<>();
        final AtomicLong events = new AtomicLong();

        Reads(EventStore delegate) {
            super(delegate);
        }

        @Override
        public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
            from.add(fromSequence);
            return super.readStream(stream, fromSequence).peek(event -> events.incrementAndGet());
        }

        /** The node closes only stores it owns; this one is shared. */
        @Override
        public void close() {
        }
    }

    private static <T> T waitFor(Supplier<Optional<T>> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            Optional<T> value = condition.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 30 s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Nested
    class OnH2 extends Scenario {
        @TempDir
        Path folder;

        @Override
        TestDatabase open() {
            return TestDatabase.onH2(folder);
        }
    }

    @Nested
    class OnPostgres extends Scenario {
        @Override
        TestDatabase open() {
            return TestDatabase.onPostgres();
        }
    }
}
