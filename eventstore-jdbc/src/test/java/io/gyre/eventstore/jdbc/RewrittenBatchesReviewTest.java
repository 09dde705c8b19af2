package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review of group commit (issue 13) on PostgreSQL: a pool configured with the driver's common throughput setting
 * {@code reWriteBatchedInserts=true}, which makes a JDBC batch of inserts report no row counts, while the shared
 * transaction tells a stored decision from a refused one by its row count. Appends queued together must still each
 * be stored once and acknowledged.
 */
class RewrittenBatchesReviewTest {

    private final TableNames tables = JdbcFixtures.randomTables();
    private HikariDataSource pool;

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close();
        }
        JdbcFixtures.drop(PostgresServer.get().dataSource(), tables);
    }

    @Test
    void appends_grouped_on_a_pool_that_rewrites_batched_inserts_are_each_stored_and_acknowledged() throws Exception {
        HikariDataSource shared = PostgresServer.get().dataSource();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(shared.getJdbcUrl());
        config.setUsername(shared.getUsername());
        config.setPassword(shared.getPassword());
        config.setMaximumPoolSize(4);
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        pool = new HikariDataSource(config);
        try (JdbcEventStore store = JdbcEventStore.builder(pool).tableNames(tables).createSchema(true)
                .appendTransactions(1).build()) {
            List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                appends.add(store.appendAsync(AppendRequest.events(StreamId.of("Rewritten", "s" + i),
                        ExpectedSequence.noStream(), "cmd-" + i, List.of(new EventData(UUID.randomUUID().toString(),
                                "Thing", "{\"n\":" + i + "}", "{}", Instant.now(), 0)))));
            }
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < appends.size(); i++) {
                try {
                    appends.get(i).get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add("s" + i + ": " + e.getCause());
                }
            }
            assertThat(failures).as("appends that failed").isEmpty();
            for (int i = 0; i < appends.size(); i++) {
                assertThat(store.lastSequence(StreamId.of("Rewritten", "s" + i))).as("s" + i).isZero();
            }
        }
    }
}
