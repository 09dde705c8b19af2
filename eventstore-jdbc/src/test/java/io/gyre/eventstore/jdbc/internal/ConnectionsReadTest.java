package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.eventstore.jdbc.TableNames;
import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.OverlappingFileLockException;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Connections#read}: on H2, a read whose file another thread's interrupt closed is run again, a bounded number
 * of times; a read closed by the caller's own interrupt is not, and its error says so with the interrupt set again;
 * every other failure, and every failure on PostgreSQL, is thrown at once. The failures are H2's as a read meets them:
 * the JDK's channel exception several causes deep under H2's own.
 */
class ConnectionsReadTest {

    private final JdbcConnectionPool pool = JdbcConnectionPool.create("jdbc:h2:mem:", "sa", "");
    private final Connections h2 = new Connections(pool, new Statements(false, TableNames.defaults()), 0);

    @AfterEach
    void close() {
        Thread.interrupted();
        pool.dispose();
    }

    @Test
    void a_read_closed_under_it_by_another_thread_is_read_again() throws Exception {
        AtomicInteger attempts = new AtomicInteger();

        String read = h2.read(connection -> {
            if (attempts.incrementAndGet() < 3) {
                throw h2Failure(new AsynchronousCloseException());
            }
            return "events";
        });

        assertThat(read).isEqualTo("events");
        assertThat(attempts).hasValue(3);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void reads_closed_again_and_again_give_up_after_the_last_attempt_with_the_last_failure() {
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> h2.read(connection -> {
            attempts.incrementAndGet();
            throw h2Failure(new OverlappingFileLockException());
        })).isInstanceOf(SQLException.class).hasRootCauseInstanceOf(OverlappingFileLockException.class);
        assertThat(attempts).hasValue(Connections.READ_ATTEMPTS);
    }

    @Test
    void h2s_own_failure_to_lock_the_file_again_is_read_again() throws Exception {
        AtomicInteger attempts = new AtomicInteger();

        h2.read(connection -> {
            if (attempts.incrementAndGet() == 1) {
                throw h2Failure(new IOException("Re-locking failed"));
            }
            return null;
        });

        assertThat(attempts).hasValue(2);
    }

    @Test
    void a_read_closed_by_the_callers_own_interrupt_fails_at_once_saying_so_with_the_interrupt_set_again() {
        AtomicInteger attempts = new AtomicInteger();

        // H2 has cleared the flag by then: only the JDK's exception says whose interrupt it was.
        assertThatThrownBy(() -> h2.read(connection -> {
            attempts.incrementAndGet();
            throw h2Failure(new ClosedByInterruptException());
        })).isInstanceOf(SQLException.class).hasMessageContaining("interrupted")
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("HY008"));
        assertThat(attempts).hasValue(1);
        assertThat(Thread.currentThread().isInterrupted()).as("interrupt status").isTrue();
    }

    @Test
    void a_caller_interrupted_again_is_not_kept_reading() {
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> h2.read(connection -> {
            attempts.incrementAndGet();
            Thread.currentThread().interrupt();
            throw h2Failure(new AsynchronousCloseException());
        })).isInstanceOf(SQLException.class).hasMessageContaining("interrupted");
        assertThat(attempts).hasValue(1);
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
    }

    @Test
    void other_failures_and_every_failure_on_postgres_are_thrown_at_once() {
        AtomicInteger attempts = new AtomicInteger();
        SQLException refused = new SQLException("relation does not exist", "42P01");

        assertThatThrownBy(() -> h2.read(connection -> {
            attempts.incrementAndGet();
            throw refused;
        })).isSameAs(refused);
        assertThat(attempts).hasValue(1);

        Connections postgres = new Connections(pool, new Statements(true, TableNames.defaults()), 0);
        SQLException closed = h2Failure(new AsynchronousCloseException());
        assertThatThrownBy(() -> postgres.read(connection -> {
            attempts.incrementAndGet();
            throw closed;
        })).isSameAs(closed);
        assertThat(attempts).hasValue(2);
    }

    /** As H2 reports a file read that failed: its SQL error over its store's error over the JDK's. */
    private static SQLException h2Failure(Throwable io) {
        IOException reading = io instanceof IOException e ? e : new IOException(io);
        RuntimeException store = new IllegalStateException("Reading from file retry:/tmp/events.mv.db failed at 4096",
                reading);
        return new SQLException("General error: \"" + store + "\"", "HY000", 50000, store);
    }
}
