package io.gyre.examples.bank;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandGateway;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.TrackingToken;
import io.gyre.eventstore.jdbc.JdbcProcessingStore;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.SegmentState;
import io.gyre.processing.SegmentStatus;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The balances projection on its own: a node on the in-memory event store with the read model in an H2 file. A
 * reset clears the table through the reset hook and the replay rebuilds it row for row; a reset past an account's
 * opening stops the segment at once with an error that says so.
 */
class BalancesProjectionTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path folder;
    private JdbcConnectionPool database;
    private Gyre node;

    @BeforeEach
    void start() {
        database = JdbcConnectionPool.create("jdbc:h2:file:" + folder.resolve("read-model").toAbsolutePath(), "sa",
                "");
        BalancesProjection.createTable(database);
        node = Gyre.builder().eventStore(new InMemoryEventStore()).aggregate(Account.class)
                .processor(BalancesProjection.processor(JdbcProcessingStore.create(database)))
                .start();
    }

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
        database.dispose();
    }

    /** Opens accounts and moves money: 3 accounts, each opened, then deposits and a withdrawal. */
    private Map<String, Long> moveMoney() {
        CommandGateway gateway = node.commandGateway();
        Map<String, Long> balances = new TreeMap<>();
        for (int i = 0; i < 3; i++) {
            gateway.sendAndWait(new OpenAccount("p-" + i, "owner-" + i), Duration.ofSeconds(5));
        }
        for (int round = 1; round <= 10; round++) {
            for (int i = 0; i < 3; i++) {
                balances.put("p-" + i, gateway.sendAndWait(new Deposit("p-" + i, round * (i + 1)),
                        Duration.ofSeconds(5)));
            }
        }
        balances.put("p-0", gateway.sendAndWait(new Withdraw("p-0", 7), Duration.ofSeconds(5)));
        return balances;
    }

    /** @return every row, with the position and time of its last event */
    private List<String> rows() throws Exception {
        try (Connection connection = database.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT account_id, owner_name, balance, "
                     + "last_event_position, updated_at FROM " + BalancesProjection.TABLE + " ORDER BY account_id");
             ResultSet rows = query.executeQuery()) {
            List<String> all = new ArrayList<>();
            while (rows.next()) {
                all.add(rows.getString(1) + " " + rows.getString(2) + " " + rows.getLong(3) + " @" + rows.getLong(4)
                        + " " + rows.getObject(5, OffsetDateTime.class).toInstant());
            }
            return all;
        }
    }

    private ProcessorStatus status() {
        return node.processors().status(BalancesProjection.PROCESSOR);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Waited " + TIMEOUT.toSeconds() + " s for " + what);
            }
            Thread.sleep(20);
        }
    }

    private boolean readModelShows(Map<String, Long> balances) {
        try {
            return status().caughtUp() && new Balances(database).all().equals(balances);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void a_reset_clears_the_table_and_the_replay_rebuilds_every_row_with_the_same_positions() throws Exception {
        Map<String, Long> balances = moveMoney();
        await("the read model shows " + balances, () -> readModelShows(balances));
        List<String> before = rows();
        assertThat(before).hasSize(3);

        node.processors().reset(BalancesProjection.PROCESSOR).join();

        await("the replay rebuilds " + before, () -> {
            try {
                return status().caughtUp() && rows().equals(before);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(new Balances(database).find("p-0")).hasValueSatisfying(account -> {
            assertThat(account.balance()).isEqualTo(balances.get("p-0"));
            assertThat(account.owner()).isEqualTo("owner-0");
        });
    }

    @Test
    void a_reset_past_the_openings_stops_the_segments_at_once_saying_the_opening_was_missed() throws Exception {
        Map<String, Long> balances = moveMoney();
        await("the read model shows " + balances, () -> readModelShows(balances));
        long lastOpening = rows().size(); // the openings came first: positions 1 to 3 on the in-memory store

        node.processors().reset(BalancesProjection.PROCESSOR, TrackingToken.at(lastOpening)).join();

        await("a segment stops", () -> status().segments().stream()
                .anyMatch(segment -> segment.state() == SegmentState.STOPPED));
        SegmentStatus stopped = status().segments().stream()
                .filter(segment -> segment.state() == SegmentState.STOPPED).findFirst().orElseThrow();
        assertThat(stopped.failure().attempts()).as("retrying cannot help, so it is not retried").isEqualTo(1);
        assertThat(stopped.failure().cause()).contains("missed the account's opening")
                .contains("Reset it to the start instead");
    }
}
