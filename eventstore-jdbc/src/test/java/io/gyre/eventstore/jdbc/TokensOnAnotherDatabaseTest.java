package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.conformance.Events;
import io.gyre.processing.Delivery;
import io.gyre.processing.Eventually;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.TrackingProcessor;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial review of issue 14 (a token store on another database than the events): events on PostgreSQL, the
 * tokens, dead letters and a transactional read model on H2, while four appenders write concurrently (their
 * transactions commit out of order) and the node restarts half-way. At the end the read model equals a replay of the
 * store, each event counted once.
 */
class TokensOnAnotherDatabaseTest {

    @TempDir
    Path folder;

    private ProcessingDatabase events;
    private ProcessingDatabase readSide;
    private JdbcEventStore store;
    private Gyre node;
    private String table;

    @AfterEach
    void close() {
        if (node != null) {
            node.close();
        }
        if (store != null) {
            store.close();
        }
        if (readSide != null) {
            readSide.close();
        }
        if (events != null) {
            events.close();
        }
    }

    private Gyre start(JdbcProcessingStore processing, TransactionalDeliveryTest.Balances balances) {
        return Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(processing).build())
                .processor(TrackingProcessor.named("balances").segments(4).batchSize(20)
                        .pollInterval(Duration.ofMillis(20)).handlers(balances)
                        .delivery(Delivery.transactional(processing)))
                .start();
    }

    @Test
    void events_on_postgres_and_a_transactional_read_model_with_its_tokens_on_h2_match_a_replay() throws Exception {
        table = "rm" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "_balances";
        events = ProcessingDatabase.onPostgres();
        readSide = ProcessingDatabase.onH2(folder, table);
        store = events.eventStore();
        JdbcProcessingStore processing = readSide.processingStore();
        try (Connection connection = readSide.dataSource().getConnection();
             Statement create = connection.createStatement()) {
            create.execute("CREATE TABLE " + table + " (account VARCHAR(255) PRIMARY KEY, balance BIGINT NOT NULL,"
                    + " events BIGINT NOT NULL)");
        }
        TransactionalDeliveryTest.Balances balances = new TransactionalDeliveryTest.Balances(table);
        node = start(processing, balances);

        List<Thread> appenders = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            Thread appender = new Thread(() -> {
                for (int i = 0; i < 150; i++) {
                    store.append(append("agg-" + (thread * 5 + i % 5), ExpectedSequence.any(), "c-" + thread + "-" + i,
                            thread * 1000 + i));
                }
            });
            appenders.add(appender);
            appender.start();
        }
        Thread.sleep(300);
        node.close();                              // restarts half-way, from its tokens on H2
        node = start(processing, balances);
        for (Thread appender : appenders) {
            appender.join();
        }

        Eventually.await(Duration.ofSeconds(60), () -> "read model " + readModel() + " against " + expected(),
                () -> node.processors().status("balances").caughtUp() && readModel().equals(expected()));
        System.out.printf("%s: 600 events on PostgreSQL, read model and tokens on H2: %s%n",
                getClass().getSimpleName(), processing.tokens("balances"));
        assertThat(readModel()).isEqualTo(expected());
    }

    private Map<String, String> readModel() {
        Map<String, String> rows = new TreeMap<>();
        try (Connection connection = readSide.dataSource().getConnection();
             Statement query = connection.createStatement();
             ResultSet result = query.executeQuery("SELECT account, balance, events FROM " + table)) {
            while (result.next()) {
                rows.put(result.getString(1), result.getLong(2) + "/" + result.getLong(3));
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    private Map<String, String> expected() {
        Map<String, String> rows = new TreeMap<>();
        for (int a = 0; a < 20; a++) {
            long balance = 0;
            long count = 0;
            try (Stream<StoredEvent> stream = store.readStream(Events.stream("agg-" + a))) {
                for (StoredEvent event : (Iterable<StoredEvent>) stream::iterator) {
                    balance += Long.parseLong(event.payload().replaceAll("[^0-9]", ""));
                    count++;
                }
            }
            if (count > 0) {
                rows.put("agg-" + a, balance + "/" + count);
            }
        }
        return rows;
    }
}
