package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.GyreNonTransientException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackedEvent;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.conformance.Events;
import io.gyre.eventstore.jdbc.internal.PostgresLogOrder;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A database restored from another server: its events carry transaction ids the new server has not reached, which
 * the test models by raising every stored id (in order) above the server's next one, and every token with them (what
 * {@code pg_dump}/restore of an older, busier server leaves). Readers would silently get nothing; the store refuses,
 * at start and when reading, and names the repair, a new log epoch, after which nothing is skipped or repeated.
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
        restore(1_000);

        assertThatThrownBy(this::open)
                .isInstanceOf(GlobalLogRestoredException.class)
                .isInstanceOf(GyreNonTransientException.class)
                .hasMessageContaining(tables.events())
                .hasMessageContaining("pg_dump/restore")
                .hasMessageContaining("GlobalLogRepair.startNewEpoch(dataSource, tables)")
                .hasMessageContaining("Repairing the global log after a restore")
                .satisfies(e -> assertThat(Long.parseLong(((GlobalLogRestoredException) e).newestStored()))
                        .isGreaterThanOrEqualTo(Long.parseLong(((GlobalLogRestoredException) e).serverNext())));
    }

    @Test
    void a_running_store_whose_database_is_restored_under_it_refuses_to_read() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1, 2));
        restore(1_000);

        assertThatThrownBy(() -> store.readAll(TrackingToken.START, 10))
                .isInstanceOf(GlobalLogRestoredException.class)
                .hasMessageContaining("found while reading");
        assertThat(store.globalLogStatus().state()).isEqualTo(GlobalLogStatus.State.RESTORED);
    }

    @Test
    void a_token_from_a_server_ahead_of_this_one_is_refused() {
        store = open();
        TrackingToken fromElsewhere = new TrackingToken(PostgresLogOrder.commitOrder(0, 1L << 40), 5);

        assertThatThrownBy(() -> store.readAll(fromElsewhere, 10))
                .isInstanceOf(GlobalLogRestoredException.class)
                .hasMessageContaining("a reader's token holds transaction id " + (1L << 40));
    }

    @Test
    void a_token_of_a_later_epoch_than_the_store_is_refused() {
        store = open();
        TrackingToken ofALaterEpoch = new TrackingToken(PostgresLogOrder.commitOrder(3, 1), 5);

        assertThatThrownBy(() -> store.readAll(ofALaterEpoch, 10))
                .isInstanceOf(GlobalLogRestoredException.class)
                .hasMessageContaining("is of log epoch 3, above the current epoch 0");
    }

    @Test
    void after_the_repair_a_processor_from_before_the_restore_goes_on_without_skipping_or_repeating_whatever_the_gap()
            throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1, 2));
        store.append(append("acc-2", ExpectedSequence.noStream(), "c2", 3));
        store.append(append("acc-3", ExpectedSequence.noStream(), "c3", 4));
        List<TrackedEvent> beforeRestore = store.readAll(TrackingToken.START, 2);
        assertThat(numbers(beforeRestore)).containsExactly(1L, 2L);
        store.close();
        store = null;
        // Far beyond what using up transaction ids could ever close: 2^40 ids.
        long shift = restore(1L << 40);
        TrackingToken processor = shifted(beforeRestore.get(1).token(), shift);

        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).isEqualTo(1);

        store = open();
        store.append(append("acc-4", ExpectedSequence.noStream(), "c4", 5));
        store.append(append("acc-1", ExpectedSequence.exactly(1), "c5", 6));
        assertThat(numbers(read(processor, 4))).as("the processor from before the restore").containsExactly(3L, 4L, 5L,
                6L);
        assertThat(numbers(read(TrackingToken.START, 6))).as("a processor from the start").containsExactly(1L, 2L, 3L,
                4L, 5L, 6L);
        assertThat(epochs()).containsExactly(0, 1);
        assertThat(store.globalLogStatus().state()).as("no false alarm: the old epoch's ids are above the server's by "
                + "design").isEqualTo(GlobalLogStatus.State.MOVING);
        store.close();
        store = open();
        assertThat(numbers(read(TrackingToken.START, 6))).as("after another start").hasSize(6);
    }

    @Test
    void the_repair_run_again_or_on_a_healthy_store_changes_nothing() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).as("a healthy store").isZero();
        store.close();
        store = null;
        restore(5_000);

        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).isEqualTo(1);
        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).as("run twice").isEqualTo(1);
        store = open();
        store.append(append("acc-2", ExpectedSequence.noStream(), "c2", 2));
        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).as("with events in the new epoch").isEqualTo(1);
        assertThat(numbers(read(TrackingToken.START, 2))).containsExactly(1L, 2L);
    }

    @Test
    void a_token_kept_in_the_tokens_table_ahead_of_the_server_is_repaired_too() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        store.close();
        store = null;
        long ahead = PostgresLogOrder.commitOrder(0, 1L << 36);
        execute("INSERT INTO " + tables.tokens() + " (processor_name, segment, commit_order, position, updated_at)"
                + " VALUES ('p', 0, " + ahead + ", 1, now())");

        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).isEqualTo(1);
        store = open();
        store.append(append("acc-2", ExpectedSequence.noStream(), "c2", 2));
        assertThat(numbers(read(new TrackingToken(ahead, 1), 1))).containsExactly(2L);
    }

    @Test
    void data_restored_into_a_schema_created_anew_is_refused_and_repaired_above_its_epochs() throws SQLException {
        store = open();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        store.close();
        store = null;
        restore(1_000);
        GlobalLogRepair.startNewEpoch(dataSource, tables);
        store = open();
        store.append(append("acc-2", ExpectedSequence.noStream(), "c2", 2));
        store.close();
        store = null;
        // A data-only restore into tables a new schema made: the rows keep epoch 1, the default is 0 again.
        execute("ALTER TABLE " + tables.events() + " ALTER COLUMN log_epoch SET DEFAULT 0");

        assertThatThrownBy(this::open).isInstanceOf(GlobalLogRestoredException.class)
                .hasMessageContaining("is of log epoch 1, above the current epoch 0");
        assertThat(GlobalLogRepair.startNewEpoch(dataSource, tables)).isEqualTo(2);
        store = open();
        store.append(append("acc-3", ExpectedSequence.noStream(), "c3", 3));
        assertThat(numbers(read(TrackingToken.START, 3))).containsExactly(1L, 2L, 3L);
        assertThat(epochs()).containsExactly(0, 1, 2);
    }

    @Test
    void a_store_older_than_the_epoch_column_is_told_how_to_migrate() throws SQLException {
        store = open();
        store.close();
        store = null;
        execute("ALTER TABLE " + tables.events() + " DROP COLUMN log_epoch");

        assertThatThrownBy(() -> GlobalLogRepair.startNewEpoch(dataSource, tables))
                .isInstanceOf(EventStoreSchemaException.class)
                .hasMessageContaining("has no log_epoch column")
                .hasMessageContaining("createSchema(true)");
    }

    private List<TrackedEvent> read(TrackingToken after, int expected) {
        List<TrackedEvent> all = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        TrackingToken token = after;
        while (all.size() < expected && System.nanoTime() < deadline) {
            List<TrackedEvent> batch = store.readAll(token, 10);
            all.addAll(batch);
            if (!batch.isEmpty()) {
                token = batch.get(batch.size() - 1).token();
            }
        }
        // Whatever comes after the expected events is read too, so that a repeat would show.
        all.addAll(store.readAll(token, 10));
        return all;
    }

    private static List<Long> numbers(List<TrackedEvent> events) {
        return events.stream().map(tracked -> Events.numberOf(tracked.event())).toList();
    }

    private List<Integer> epochs() throws SQLException {
        List<Integer> epochs = new ArrayList<>();
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT DISTINCT log_epoch FROM " + tables.events()
                     + " ORDER BY log_epoch")) {
            while (rows.next()) {
                epochs.add(rows.getInt(1));
            }
        }
        return epochs;
    }

    /**
     * Models the restore: every stored event (and token) now carries an id this server will only hand out later, in
     * the order they had.
     *
     * @return how far the ids moved
     */
    private long restore(long ahead) throws SQLException {
        long shift;
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            try (ResultSet row = statement.executeQuery("SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint)")) {
                row.next();
                shift = row.getLong(1) + ahead;
            }
            statement.execute("UPDATE " + tables.events() + " SET transaction_id = CAST(CAST(CAST(CAST("
                    + "transaction_id AS text) AS bigint) + " + shift + " AS text) AS xid8)");
            statement.execute("UPDATE " + tables.tokens() + " SET commit_order = commit_order + " + shift);
        }
        return shift;
    }

    private static TrackingToken shifted(TrackingToken token, long shift) {
        return new TrackingToken(token.commitOrder() + shift, token.position());
    }

    private void execute(String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
