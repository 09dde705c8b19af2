package io.gyre.eventstore.jdbc;

import static io.gyre.eventstore.conformance.Events.append;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.conformance.Events;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pools configured without auto-commit (common under Spring or JPA) must not lose acknowledged appends. */
class NonAutoCommitPoolTest {

    @TempDir
    Path folder;

    @Test
    void appends_through_a_pool_without_auto_commit_are_committed() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:file:" + folder.resolve("events").toAbsolutePath());
        config.setUsername("sa");
        config.setAutoCommit(false);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            JdbcEventStore store = JdbcEventStore.builder(pool).createSchema(true).build();
            store.append(append("acc", ExpectedSequence.noStream(), "cmd-1", 1));
            store.append(append("acc", ExpectedSequence.exactly(0), "cmd-2", LongStream.range(0, 600).toArray()));
            assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isZero();
        }
        try (HikariDataSource reopened = new HikariDataSource(config)) {
            JdbcEventStore store = JdbcEventStore.builder(reopened).build();
            List<StoredEvent> events = store.readStream(Events.stream("acc")).toList();
            assertThat(events).hasSize(601);
            assertThat(events.get(600).sequence()).isEqualTo(600);
        }
    }
}
