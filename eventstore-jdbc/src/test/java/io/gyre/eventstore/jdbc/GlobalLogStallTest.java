package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static io.gyre.eventstore.jdbc.PostgresAppendNotificationTest.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.GlobalLogStall;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.TrackingProcessor;
import io.gyre.processing.conformance.Recorder;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A session of another database that wrote and stays idle in its transaction holds PostgreSQL's snapshot horizon,
 * and with it every reader of the global log: the store reports the stall after its threshold, naming the session,
 * and readers get the events once the session ends. A tracking processor's status shows the stall while the
 * processor waits at it.
 */
class GlobalLogStallTest {

    private static final String OTHER_DATABASE = "gyre_stall_other";

    private final HikariDataSource dataSource = PostgresServer.get().dataSource();
    private final TableNames tables = JdbcFixtures.randomTables();
    private JdbcEventStore store;

    private Gyre node;

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
        if (store != null) {
            store.close();
        }
        JdbcFixtures.drop(dataSource, tables);
    }

    @Test
    void an_idle_in_transaction_session_of_another_database_that_wrote_stalls_the_log_and_is_named() throws Exception {
        store = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true)
                .stallThreshold(Duration.ofSeconds(1)).build();
        try (Connection holder = otherDatabase()) {
            holder.setAutoCommit(false);
            int holderPid;
            try (Statement statement = holder.createStatement()) {
                statement.execute("CREATE TABLE IF NOT EXISTS scratch (n int)");
                holder.commit();
                statement.execute("INSERT INTO scratch VALUES (1)");
                try (ResultSet row = statement.executeQuery("SELECT pg_backend_pid()")) {
                    row.next();
                    holderPid = row.getInt(1);
                }
            }
            // The holder now sits idle in its transaction, with a transaction id older than the appends below.
            store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1, 2));
            assertThat(store.readAll(TrackingToken.START, 10)).isEmpty();

            AtomicReference<GlobalLogStatus> status = new AtomicReference<>();
            awaitTrue(() -> {
                status.set(store.globalLogStatus());
                return status.get().state() == GlobalLogStatus.State.STALLED;
            }, Duration.ofSeconds(15), "the stall to be reported");

            GlobalLogStatus stalled = status.get();
            assertThat(stalled.heldFor()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            assertThat(stalled.blockingSessions()).isNotEmpty();
            GlobalLogStatus.BlockingSession oldest = stalled.blockingSessions().get(0);
            assertThat(oldest.pid()).isEqualTo(holderPid);
            assertThat(oldest.database()).isEqualTo(OTHER_DATABASE);
            assertThat(oldest.state()).isEqualTo("idle in transaction");
            assertThat(oldest.query()).contains("pg_backend_pid");
            assertThat(stalled.message()).contains("pid " + holderPid).contains("idle_in_transaction_session_timeout");

            holder.rollback();
        }
        awaitTrue(() -> store.readAll(TrackingToken.START, 10).size() == 2, Duration.ofSeconds(10),
                "the events once the holder ended");
        assertThat(store.globalLogStatus().state()).isEqualTo(GlobalLogStatus.State.MOVING);
    }

    @Test
    void a_tracking_processor_held_back_by_a_stalled_log_shows_the_blocking_session_in_its_status() throws Exception {
        store = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true)
                .stallThreshold(Duration.ofSeconds(1)).build();
        JdbcProcessingStore tokens = JdbcProcessingStore.builder(dataSource).tableNames(tables).createSchema(true)
                .build();
        Recorder recorder = new Recorder();
        node = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(tokens).build())
                .processor(TrackingProcessor.named("ledger").segments(2).pollInterval(Duration.ofMillis(100))
                        .handlers(recorder))
                .start();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        awaitTrue(() -> recorder.count() == 1 && node.processors().status("ledger").caughtUp(),
                Duration.ofSeconds(15), "the first event handled");
        assertThat(node.processors().status("ledger").logStall()).isNull();

        try (Connection holder = otherDatabase()) {
            holder.setAutoCommit(false);
            int holderPid;
            try (Statement statement = holder.createStatement()) {
                statement.execute("CREATE TABLE IF NOT EXISTS scratch (n int)");
                holder.commit();
                statement.execute("INSERT INTO scratch VALUES (1)");
                try (ResultSet row = statement.executeQuery("SELECT pg_backend_pid()")) {
                    row.next();
                    holderPid = row.getInt(1);
                }
            }
            store.append(append("acc-1", ExpectedSequence.exactly(0), "c2", 2, 3));

            AtomicReference<ProcessorStatus> status = new AtomicReference<>();
            awaitTrue(() -> {
                status.set(node.processors().status("ledger"));
                return status.get().logStall() != null;
            }, Duration.ofSeconds(15), "the processor's status to show the stall");

            GlobalLogStall stall = status.get().logStall();
            assertThat(stall.blockingSessions()).isNotEmpty();
            GlobalLogStall.BlockingSession oldest = stall.blockingSessions().get(0);
            assertThat(oldest.sessionId()).isEqualTo(holderPid);
            assertThat(oldest.database()).isEqualTo(OTHER_DATABASE);
            assertThat(oldest.state()).isEqualTo("idle in transaction");
            assertThat(stall.heldFor()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            assertThat(stall.since()).isBeforeOrEqualTo(stall.checkedAt().minusSeconds(1));
            assertThat(stall.message()).contains("pid " + holderPid);
            assertThat(recorder.count()).as("the events behind the stall wait").isEqualTo(1);

            holder.rollback();
        }
        awaitTrue(() -> recorder.count() == 3, Duration.ofSeconds(15), "the events once the holder ended");
        awaitTrue(() -> node.processors().status("ledger").logStall() == null, Duration.ofSeconds(15),
                "the stall to leave the status");
    }

    @Test
    void a_log_that_moves_is_reported_moving() {
        store = JdbcEventStore.builder(dataSource).tableNames(tables).createSchema(true).build();
        store.append(append("acc-1", ExpectedSequence.noStream(), "c1", 1));
        awaitTrue(() -> store.readAll(TrackingToken.START, 10).size() == 1, Duration.ofSeconds(10), "the event");

        GlobalLogStatus status = store.globalLogStatus();

        assertThat(status.state()).isEqualTo(GlobalLogStatus.State.MOVING);
        assertThat(status.blockingSessions()).isEmpty();
        assertThat(status.newestStored()).isNotNull();
    }

    /** @return a connection to a database of the same server other than the store's, created if missing */
    private Connection otherDatabase() throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
             ResultSet exists = statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '"
                     + OTHER_DATABASE + "'")) {
            if (!exists.next()) {
                statement.execute("CREATE DATABASE " + OTHER_DATABASE);
            }
        }
        String url = dataSource.getJdbcUrl().replaceFirst("(jdbc:postgresql://[^/]+/)[^?]*", "$1" + OTHER_DATABASE);
        return DriverManager.getConnection(url, dataSource.getUsername(), dataSource.getPassword());
    }
}
