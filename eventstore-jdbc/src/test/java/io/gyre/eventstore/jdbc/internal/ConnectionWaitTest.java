package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.gyre.command.Deadline;
import io.gyre.eventstore.jdbc.TableNames;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * {@link ConnectionWait}: a caller's wait for a pooled connection ends at its deadline, and the watchdog's interrupt
 * never outlives that wait, even when it lands just as the pool hands out a connection.
 */
class ConnectionWaitTest {

    private final AtomicInteger opened = new AtomicInteger();
    private final AtomicInteger closed = new AtomicInteger();

    @Test
    void a_caller_waiting_on_an_exhausted_pool_is_freed_at_its_deadline_and_left_uninterrupted() throws Exception {
        // A pool that waits interruptibly, like HikariCP's, for a connection that never comes.
        Connections connections = connections(() -> {
            try {
                Thread.sleep(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("Interrupted during connection acquisition", e);
            }
            throw new SQLException("Connection is not available, request timed out after 30000ms.");
        });
        for (int round = 0; round < 5; round++) {
            long start = System.nanoTime();
            Throwable thrown = catchThrowable(() -> ConnectionWait.open(connections,
                    Deadline.after(Duration.ofMillis(100))));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(thrown).isInstanceOf(ConnectionWait.DeadlinePassed.class)
                    .hasRootCauseInstanceOf(InterruptedException.class);
            assertThat(millis).as("ms waited with a 100 ms deadline").isBetween(100L, 2_000L);
            assertThat(Thread.interrupted()).as("the watchdog's interrupt cleared").isFalse();
        }
    }

    @Test
    void a_connection_that_comes_as_the_deadline_passes_is_closed_and_the_interrupt_never_lands_later()
            throws Exception {
        // A pool that hands out a connection after a random moment around the deadline, returning early when
        // interrupted (as when the interrupt lands just as a connection is handed over).
        Connections connections = connections(() -> {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(ThreadLocalRandom.current().nextLong(25_000)));
            return connection();
        });
        int freed = 0;
        int rounds = 300;
        for (int round = 0; round < rounds; round++) {
            try (Connection connection = ConnectionWait.open(connections, Deadline.after(Duration.ofMillis(10)))) {
                assertThat(connection).isNotNull();
            } catch (ConnectionWait.DeadlinePassed e) {
                freed++;
            }
            assertThat(Thread.currentThread().isInterrupted()).as("interrupted after round " + round).isFalse();
            // Whatever the watchdog does next must not reach this thread, now outside getConnection.
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(ThreadLocalRandom.current().nextLong(200)));
            assertThat(Thread.interrupted()).as("interrupted after leaving round " + round).isFalse();
        }
        assertThat(closed.get()).as("every connection handed out is closed, also the ones that came too late")
                .isEqualTo(opened.get());
        System.out.println("Freed at the deadline in " + freed + " of " + rounds + " rounds");
        assertThat(freed).as("some waits outlived the deadline").isPositive();
    }

    @Test
    void a_deadline_already_passed_does_not_ask_the_pool() {
        Connections connections = connections(() -> {
            throw new AssertionError("asked the pool");
        });
        Deadline passed = Deadline.afterNanos(1);
        LockSupport.parkNanos(1_000);
        assertThat(catchThrowable(() -> ConnectionWait.open(connections, passed)))
                .isInstanceOf(ConnectionWait.DeadlinePassed.class);
    }

    @FunctionalInterface
    private interface Open {
        Connection open() throws SQLException;
    }

    private Connection connection() {
        opened.incrementAndGet();
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        closed.incrementAndGet();
                    }
                    return null;
                });
    }

    private static Connections connections(Open open) {
        DataSource dataSource = new DataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                return open.open();
            }

            @Override
            public Connection getConnection(String username, String password) throws SQLException {
                return open.open();
            }

            @Override
            public PrintWriter getLogWriter() {
                return null;
            }

            @Override
            public void setLogWriter(PrintWriter out) {
            }

            @Override
            public void setLoginTimeout(int seconds) {
            }

            @Override
            public int getLoginTimeout() {
                return 0;
            }

            @Override
            public Logger getParentLogger() {
                return Logger.getGlobal();
            }

            @Override
            public <T> T unwrap(Class<T> type) throws SQLException {
                throw new SQLException("not a wrapper");
            }

            @Override
            public boolean isWrapperFor(Class<?> type) {
                return false;
            }
        };
        return new Connections(dataSource, new Statements(true, TableNames.defaults()), 0);
    }
}
