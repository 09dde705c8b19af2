package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.eventstore.StreamId;
import io.gyre.snapshot.Snapshot;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the combined snapshot read ({@code ReadSnapshotWithEvents}: on PostgreSQL the snapshot and the first page
 * of the events after it in one query): a load from a snapshot never returns a state the events alone would not
 * produce, on PostgreSQL (combined query) and H2 (two reads) alike, when the events after the snapshot span several
 * pages, when a restore lost the events the snapshot was taken after, when the only snapshot of the id is another
 * aggregate type's, and when the stream after the snapshot has a gap. (A gap before the snapshot is not seen by a
 * load from it, on either path: a snapshot stands for the events before it, which it does not read again.)
 */
class SnapshotWithEventsReviewTest {

    private static final StreamId LEDGER = StreamId.of("Ledger", "ledger-1");
    private static final int EVERY = 10;
    private static final int DEPOSITS = 25;
    private static final long BALANCE = DEPOSITS * (DEPOSITS + 1) / 2;
    /** Events per page: the events after a snapshot at 19 or later fill several. */
    private static final int PAGE = 2;

    abstract static class Scenario {

        private TestDatabase database;
        private JdbcEventStore store;

        abstract TestDatabase open();

        @BeforeEach
        void start() {
            database = open();
            store = JdbcEventStore.builder(database.dataSource()).tableNames(database.tables()).createSchema(true)
                    .readBatchSize(PAGE).build();
            try (Gyre writer = withSnapshots()) {
                writer.commandGateway().sendAndWait(new Ledger.Open(LEDGER.aggregateId()));
                for (int cents = 1; cents <= DEPOSITS; cents++) {
                    writer.commandGateway().sendAndWait(new Ledger.Deposit(LEDGER.aggregateId(), cents));
                }
                awaitSnapshotFrom(2L * EVERY - 1);
            }
        }

        @AfterEach
        void close() {
            store.close();
            database.close();
        }

        @Test
        void the_events_after_a_snapshot_over_several_pages_give_the_state_the_events_alone_give() {
            assertThat(balance(withSnapshots())).isEqualTo(BALANCE).isEqualTo(balance(withoutSnapshots()));
        }

        @Test
        void a_snapshot_beyond_a_restored_streams_head_is_ignored() throws SQLException {
            // A restore lost the tail: events after sequence 12 (the snapshot was taken at 19 or later).
            execute("DELETE FROM " + database.tables().events()
                    + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number > 12");
            long deposits12 = 12 * 13 / 2;
            assertThat(balance(withSnapshots())).isEqualTo(deposits12).isEqualTo(balance(withoutSnapshots()));
        }

        @Test
        void another_aggregate_types_snapshot_of_the_same_id_is_never_read() throws SQLException {
            execute("UPDATE " + database.tables().snapshots() + " SET aggregate_type = 'Other'"
                    + " WHERE aggregate_type = ? AND aggregate_id = ?");
            assertThat(store.snapshots().latest(LEDGER)).isEmpty();
            assertThat(balance(withSnapshots())).isEqualTo(BALANCE);
        }

        @Test
        void a_gap_after_the_snapshot_fails_the_load_as_the_events_alone_do() throws SQLException {
            // Events after the snapshot, which the background snapshotter may have taken at the stream's head: through
            // a node without snapshots, so that none is taken after them.
            long snapshotAt = store.snapshots().latest(LEDGER).orElseThrow().sequence();
            try (Gyre writer = withoutSnapshots()) {
                for (int cents = 1; cents <= 5; cents++) {
                    writer.commandGateway().sendAndWait(new Ledger.Deposit(LEDGER.aggregateId(), cents));
                }
            }
            assertThat(store.snapshots().latest(LEDGER).orElseThrow().sequence()).isEqualTo(snapshotAt);
            execute("DELETE FROM " + database.tables().events()
                    + " WHERE aggregate_type = ? AND aggregate_id = ? AND sequence_number = " + (snapshotAt + 2));
            assertThatThrownBy(() -> balance(withoutSnapshots())).hasStackTraceContaining("jumps from sequence");
            assertThatThrownBy(() -> balance(withSnapshots())).hasStackTraceContaining("jumps from sequence");
        }

        private Gyre withSnapshots() {
            return Gyre.builder().name("review").sharedEventStore(store).aggregate(Ledger.class)
                    .snapshots(store.snapshots()).snapshotEvery(Ledger.class, EVERY).start();
        }

        private Gyre withoutSnapshots() {
            return Gyre.builder().name("review-plain").sharedEventStore(store).aggregate(Ledger.class).start();
        }

        private static long balance(Gyre node) {
            try (node) {
                return node.commandGateway().<Long>sendAndWait(new Ledger.Balance(LEDGER.aggregateId()),
                        Duration.ofSeconds(10));
            }
        }

        private void awaitSnapshotFrom(long sequence) {
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                Optional<Snapshot> snapshot = store.snapshots().latest(LEDGER);
                if (snapshot.isPresent() && snapshot.get().sequence() >= sequence) {
                    return;
                }
                assertThat(System.nanoTime()).as("a snapshot at %s or later within 30 s", sequence).isLessThan(end);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }

        private void execute(String sql) throws SQLException {
            try (Connection connection = database.dataSource().getConnection();
                 PreparedStatement statement = connection.prepareStatement(sql)) {
                statement.setString(1, LEDGER.aggregateType());
                statement.setString(2, LEDGER.aggregateId());
                assertThat(statement.executeUpdate()).isPositive();
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
