package io.gyre.eventstore.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Races writers: starts them together behind a barrier, joins every one of them (also when one fails), and keeps
 * each writer's own outcome, a value or the exception it threw, in the order the writers were given.
 */
final class Rendezvous implements AutoCloseable {

    /** Longest wait for all writers to arrive at the barrier, and for each one to finish. */
    private static final long TIMEOUT_SECONDS = 60;

    private final ExecutorService threads;
    private final int size;

    /**
     * @param size the most writers of one race; each gets a thread of its own
     */
    Rendezvous(int size) {
        this.size = size;
        this.threads = Executors.newFixedThreadPool(size);
    }

    /**
     * One writer's outcome: what it returned, or what it threw.
     *
     * @param value   its return value, null when it threw
     * @param failure what it threw, null when it returned
     */
    record Outcome(Object value, Throwable failure) {

        boolean succeeded() {
            return failure == null;
        }
    }

    /**
     * @param writers at most {@code size} writers, started together
     * @return each writer's outcome, in the order given
     * @throws InterruptedException when interrupted while joining
     */
    List<Outcome> race(List<Callable<?>> writers) throws InterruptedException {
        if (writers.size() > size) {
            throw new IllegalArgumentException("a race of " + writers.size() + " writers needs as many threads, but this "
                    + "rendezvous has " + size);
        }
        CyclicBarrier start = new CyclicBarrier(writers.size());
        List<Future<Object>> running = new ArrayList<>();
        List<Outcome> outcomes = new ArrayList<>();
        try {
            for (Callable<?> writer : writers) {
                running.add(threads.submit(() -> {
                    start.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    return writer.call();
                }));
            }
        } finally {
            // Every submitted writer is joined, even when submitting a later one failed or an earlier one hangs.
            AssertionError hung = null;
            for (Future<Object> each : running) {
                try {
                    outcomes.add(join(each));
                } catch (AssertionError e) {
                    hung = hung == null ? e : hung;
                }
            }
            if (hung != null) {
                throw hung;
            }
        }
        return outcomes;
    }

    private static Outcome join(Future<Object> writer) throws InterruptedException {
        try {
            return new Outcome(writer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), null);
        } catch (ExecutionException e) {
            return new Outcome(null, e.getCause());
        } catch (TimeoutException e) {
            writer.cancel(true);
            throw new AssertionError("a racing writer did not finish within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
