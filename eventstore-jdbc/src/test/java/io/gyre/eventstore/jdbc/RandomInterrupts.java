package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.testmodel.CounterCommands.Add;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** What the review tests that interrupt threads at random inside the embedded store share. */
final class RandomInterrupts {

    private RandomInterrupts() {
    }

    /**
     * Interrupts one of the threads at a time, at random, every half millisecond at most, then tells them to stop
     * and waits for them.
     */
    static void interruptAtRandom(List<Thread> threads, Duration duration, AtomicBoolean stop)
            throws InterruptedException {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            threads.get(ThreadLocalRandom.current().nextInt(threads.size())).interrupt();
            Thread.sleep(0, ThreadLocalRandom.current().nextInt(500_000));
        }
        stop.set(true);
        for (Thread thread : threads) {
            thread.join(60_000);
        }
    }

    /** Counters {@code c0} to {@code c<n-1>} still take a command each, and every stream is contiguous from 0. */
    static void assertCountersServedAndContiguous(Gyre node, EventStore store, int counters) {
        for (int i = 0; i < counters; i++) {
            node.commandGateway().sendAndWait(new Add("c" + i, 0), Duration.ofSeconds(10));
            long sequence = 0;
            try (Stream<StoredEvent> events = store.readStream(StreamId.of("Counter", "c" + i))) {
                for (StoredEvent event : (Iterable<StoredEvent>) events::iterator) {
                    assertThat(event.sequence()).isEqualTo(sequence++);
                }
            }
        }
    }

    /**
     * @param e what a call on an interrupted thread threw
     * @return true when it says the call was interrupted: a wait for a connection or an answer that the interrupt
     *         ended, or a read whose file the caller's own interrupt closed, reported as such
     */
    static boolean namesAnInterrupt(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException || (t.getMessage() != null
                    && t.getMessage().toLowerCase(java.util.Locale.ROOT).contains("interrupt"))) {
                return true;
            }
        }
        return false;
    }
}
