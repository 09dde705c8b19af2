package io.gyre.eventstore.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.eventstore.jdbc.ForwardingDataSource;
import io.gyre.eventstore.jdbc.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Review of {@link PostgresAppendAnnouncer}'s cut to at most one notification per interval: whatever the pace, every
 * append is followed by a notification that starts after it (so no reader is left to its poll interval by the last
 * append of a burst), also when the store closes with a notification still due, and when sending one fails with
 * an {@link Error} rather than an exception. Notifications go to a real PostgreSQL server; the data source between
 * records, as each notification borrows its connection, how many appends had been announced by then.
 */
class AppendAnnouncerReviewTest {

    private static final Duration DEADLINE = Duration.ofSeconds(5);

    /** Appends announced so far, counted before each {@code appended()} call. */
    private final AtomicLong announced = new AtomicLong();
    /** The most appends announced when a notification took its connection: those it covers. */
    private final AtomicLong covered = new AtomicLong();
    private final AtomicInteger sent = new AtomicInteger();
    private final AtomicInteger errorsToThrow = new AtomicInteger();

    private final DataSource recording = new Recording(PostgresServer.get().dataSource());

    @Test
    void every_append_of_racing_bursts_is_followed_by_a_notification_started_after_it() throws Exception {
        try (PostgresAppendAnnouncer announcer = new PostgresAppendAnnouncer(recording, "gyre_review_bursts")) {
            int threads = 4;
            CyclicBarrier start = new CyclicBarrier(threads);
            List<CompletableFuture<Void>> appenders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                appenders.add(CompletableFuture.runAsync(() -> {
                    await(start);
                    for (int i = 0; i < 300; i++) {
                        announce(announcer);
                        // Bursts with quiet spells around the interval, so the sender is found idle, sending and
                        // pausing.
                        if (ThreadLocalRandom.current().nextInt(40) == 0) {
                            sleepMillis(ThreadLocalRandom.current().nextInt(15));
                        }
                    }
                }));
            }
            CompletableFuture.allOf(appenders.toArray(CompletableFuture[]::new)).join();

            awaitTrue(() -> covered.get() == announced.get(), "a notification after the last append");
            assertThat(sent.get()).isLessThan(1200);
        }
    }

    @Test
    void a_notification_due_when_the_store_closes_still_goes_out() {
        PostgresAppendAnnouncer announcer = new PostgresAppendAnnouncer(recording, "gyre_review_close");
        announce(announcer);
        announce(announcer); // while the first is sent or its interval waited out: due
        announcer.close();

        awaitTrue(() -> covered.get() == announced.get(), "the notification due at close");
    }

    @Test
    void close_returns_once_the_notification_due_has_gone_out() {
        // A node's close is followed at once by its data source's (an application shutting down): a notification
        // still due then fails, and other nodes hear the node's last appends only at their poll.
        PostgresAppendAnnouncer announcer = new PostgresAppendAnnouncer(recording, "gyre_review_close_wait");
        announce(announcer);
        announce(announcer);
        announcer.close();

        assertThat(covered.get()).as("appends covered by a notification started before close returned")
                .isEqualTo(announced.get());
    }

    @Test
    void an_error_while_notifying_does_not_silence_the_announcer_for_good() {
        try (PostgresAppendAnnouncer announcer = new PostgresAppendAnnouncer(recording, "gyre_review_error")) {
            errorsToThrow.set(1);
            announce(announcer); // its notification fails with an Error on the sender's thread
            awaitTrue(() -> errorsToThrow.get() == 0, "the failing notification");

            announce(announcer);

            awaitTrue(() -> covered.get() == announced.get(), "a notification of the append after the failure");
        }
    }

    private void announce(PostgresAppendAnnouncer announcer) {
        announced.incrementAndGet();
        announcer.appended();
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("Waited " + DEADLINE + " for " + what);
            }
            sleepMillis(5);
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Records what each notification covers as it takes its connection; throws an Error when asked to. */
    private final class Recording extends ForwardingDataSource {

        Recording(DataSource delegate) {
            super(delegate);
        }

        @Override
        public Connection getConnection() throws SQLException {
            long now = announced.get();
            if (errorsToThrow.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new AssertionError("an Error from the driver, on the announcer's thread");
            }
            covered.accumulateAndGet(now, Math::max);
            sent.incrementAndGet();
            return delegate.getConnection();
        }

    }
}
