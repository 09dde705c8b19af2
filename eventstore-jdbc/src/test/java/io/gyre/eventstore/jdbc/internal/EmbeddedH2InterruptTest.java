package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threads interrupted while they read the embedded database from its file: the JDK closes a file channel for every
 * thread when one is interrupted inside it, and with H2's plain {@code file:} system the database then failed every
 * later read (0 reads after the first interrupt in the same program). The embedded store opens its file through
 * {@code retry:}, which opens it again: only the interrupted calls fail. H2's page cache is made small here so that
 * reads go to the file, as they do on a database larger than the cache.
 */
class EmbeddedH2InterruptTest {

    private static final int ROWS = 20_000;

    @Test
    void readers_interrupted_inside_file_reads_leave_the_database_serving_everyone(@TempDir Path folder)
            throws Exception {
        EmbeddedH2 h2 = EmbeddedH2.open(folder.resolve("events"));
        try {
            DataSource pool = h2.dataSource();
            try (Connection connection = pool.getConnection(); Statement sql = connection.createStatement()) {
                sql.execute("CREATE TABLE filler (id INT PRIMARY KEY, text CHARACTER VARYING)");
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO filler VALUES (?, ?)")) {
                    String text = "x".repeat(500);
                    for (int i = 0; i < ROWS; i++) {
                        insert.setInt(1, i);
                        insert.setString(2, text + i);
                        insert.addBatch();
                        if (i % 1_000 == 999) {
                            insert.executeBatch();
                        }
                    }
                }
                sql.execute("SET CACHE_SIZE 256"); // KB: most pages are read from the file
            }
            assertThat(Files.size(folder.resolve("events.mv.db"))).as("a file larger than the cache")
                    .isGreaterThan(4L << 20);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong reads = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                Thread reader = new Thread(() -> {
                    while (running.get()) {
                        try (Connection connection = pool.getConnection();
                             PreparedStatement query = connection.prepareStatement(
                                     "SELECT text FROM filler WHERE id = ?")) {
                            for (int i = 0; i < 100 && running.get(); i++) {
                                query.setInt(1, ThreadLocalRandom.current().nextInt(ROWS));
                                try (ResultSet row = query.executeQuery()) {
                                    row.next();
                                }
                                reads.incrementAndGet();
                            }
                        } catch (SQLException e) {
                            failed.incrementAndGet(); // an interrupted call fails: that is the caller's own
                        }
                        Thread.interrupted();
                    }
                });
                reader.start();
                readers.add(reader);
            }
            long interruptsUntil = System.nanoTime() + 2_000_000_000L;
            long interrupts = 0;
            while (System.nanoTime() < interruptsUntil) {
                readers.get(ThreadLocalRandom.current().nextInt(readers.size())).interrupt();
                interrupts++;
                Thread.sleep(0, 200_000);
            }
            long readsWhileInterrupted = reads.get();
            running.set(false);
            for (Thread reader : readers) {
                reader.join(10_000);
            }

            try (Connection connection = pool.getConnection(); Statement sql = connection.createStatement();
                 ResultSet count = sql.executeQuery("SELECT COUNT(*) FROM filler")) {
                count.next();
                assertThat(count.getLong(1)).as("the database still answers after %d interrupts", interrupts)
                        .isEqualTo(ROWS);
                sql.execute("INSERT INTO filler VALUES (-1, 'after')");
            }
            assertThat(readsWhileInterrupted).as("reads that succeeded among %d interrupts (%d calls failed)",
                    interrupts, failed.get()).isGreaterThan(failed.get() * 10);
        } finally {
            h2.close();
        }
    }
}
