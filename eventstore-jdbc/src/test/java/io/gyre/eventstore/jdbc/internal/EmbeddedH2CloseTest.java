package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread that waits for a connection of the embedded pool when the pool closes: HikariCP does not wake it, so it
 * waits for the pool's connection timeout. With HikariCP's default of 30 s, a node closed just after its embedded
 * store waited that long for a command that had asked for a connection; the embedded pool's timeout is 5 s.
 */
class EmbeddedH2CloseTest {

    @Test
    void a_thread_waiting_for_a_connection_when_the_pool_closes_is_answered_well_before_hikaris_default_30_s(
            @TempDir Path folder) throws Exception {
        EmbeddedH2 h2 = EmbeddedH2.open(folder.resolve("events"));
        DataSource pool = h2.dataSource();
        List<Connection> held = new ArrayList<>();
        try {
            while (held.size() < EmbeddedH2.MAX_CONNECTIONS) {
                held.add(pool.getConnection());
            }
            CompletableFuture<Long> closedToAnswered = new CompletableFuture<>();
            AtomicLong closedAt = new AtomicLong();
            Thread waiter = new Thread(() -> {
                try (Connection unexpected = pool.getConnection()) {
                    closedToAnswered.completeExceptionally(new AssertionError("a connection beyond the pool's "
                            + EmbeddedH2.MAX_CONNECTIONS + ": " + unexpected));
                } catch (Exception e) {
                    closedToAnswered.complete(System.nanoTime() - closedAt.get());
                }
            });
            waiter.start();
            Thread.sleep(500);
            closedAt.set(System.nanoTime());
            h2.close();
            assertThat(TimeUnit.NANOSECONDS.toSeconds(closedToAnswered.get(60, TimeUnit.SECONDS)))
                    .as("seconds from the pool's close to the waiting caller's answer (HikariCP's default: 30)")
                    .isLessThan(15);
        } finally {
            for (Connection connection : held) {
                connection.close();
            }
            h2.close();
        }
    }
}
