package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import java.util.ArrayList;
import java.util.List;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A database restored from another server: its events carry transaction ids the new server has not reached, which
 * the test models by raising the stored ids above the server's next one (what {@code pg_dump}/restore of an older,
 * busier server leaves). Readers would silently get nothing; the store refuses, at start and when reading, and names
 * the repair.
 */
class GlobalLogRestoreTest {

    private final DataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private JdbcEventStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
        JdbcFixtures.drop(dataSource, tables);
    }

    private JdbcEventStore open() {
        return JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
    }

    @Test
    void a_store_started_on_a_restored_database_is_refused_naming_the_repair() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1, 2));
        store.close();
        store = null;
        raiseStoredTransactionIds(1_000);

        assertThatThrownBy(this::open)
                .isInstanceOf(GlobalLogRestoredException.class)
                .isInstanceOf(GyreNonTransientException.class)
                .hasMessageContaining(tables.events())
                .hasMessageContaining("pg_dump/restore")
                .hasMessageContaining("Repairing the global log after a restore")
                .satisfies(e -> assertThat(Long.parseLong(((GlobalLogRestoredException) e).newestStored()))
                        .isGreaterThanOrEqualTo(Long.parseLong(((GlobalLogRestoredException) e).serverNext())));
    }

    @Test
    void a_running_store_whose_database_is_restored_under_it_refuses_to_read() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1, 2));
        raiseStoredTransactionIds(1_000);

        assertThatThrownBy(() -> store.readAll(TrackingToken.START, 10))
                .isInstanceOf(GlobalLogRestoredException.class)
                .hasMessageContaining("found while reading");
        assertThat(store.globalLogStatus().state()).isEqualTo(GlobalLogStatus.State.RESTORED);
    }

    @Test
    void a_token_from_a_server_ahead_of_this_one_is_refused() {
        store = open();
        TrackingToken fromElsewhere = new TrackingToken(Long.MAX_VALUE / 2, 5);

        assertThatThrownBy(() -> store.readAll(fromElsewhere, 10))
                .isInstanceOf(GlobalLogRestoredException.class);
    }

    @Test
    void after_the_repair_processing_resumes_with_nothing_skipped_and_new_events_after_the_restored_ones()
            throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1, 2));
        store.append(append("acc-2", ExpectedSequence.noStream(), "c2", 3));
        store.close();
        store = null;
        raiseStoredTransactionIds(20_000);

        long used = GlobalLogRepair.advanceTransactionIds(dataSource, tables);

        assertThat(used).isBetween(19_000L, 20_100L); // less the ids used since the restore
        store = open();
        store.append(append("acc-3", ExpectedSequence.noStream(), "c3", 4));
        List<Long> numbers = readEverything().stream().map(tracked -> Events.numberOf(tracked.event())).toList();
        assertThat(numbers).containsExactly(1L, 2L, 3L, 4L);
        assertThat(GlobalLogRepair.advanceTransactionIds(dataSource, tables)).isZero();
    }

    @Test
    void a_gap_too_wide_to_close_by_using_up_ids_is_refused_without_using_any() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        store.close();
        store = null;
        raiseStoredTransactionIds(GlobalLogRepair.MAX_GAP + 10);

        assertThatThrownBy(() -> GlobalLogRepair.advanceTransactionIds(dataSource, tables))
                .isInstanceOf(GyreNonTransientException.class)
                .hasMessageContaining("wraparound");
    }

    private List<TrackedEvent> readEverything() {
        List<TrackedEvent> all = new ArrayList<>();
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
        TrackingToken token = TrackingToken.START;
        while (all.size() < 4 && System.nanoTime() < deadline) {
            List<TrackedEvent> batch = store.readAll(token, 10);
            all.addAll(batch);
            if (!batch.isEmpty()) {
                token = batch.get(batch.size() - 1).token();
            }
        }
        return all;
    }

    /** Models the restore: the stored events now carry ids this server will only hand out later. */
    private void raiseStoredTransactionIds(long ahead) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("UPDATE " + tables.events() + " SET transaction_id = CAST(CAST(CAST(CAST("
                    + "pg_current_xact_id() AS text) AS bigint) + " + ahead + " AS text) AS xid8)");
        }
    }
}
