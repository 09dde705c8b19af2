package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review of caller-runs (a caller waiting in {@code sendAndWait} decides its own command on an idle
 * aggregate on its own thread): the caller must decide its own command and nothing else, so that it is back to its
 * caller as soon as its own command is decided.
 */
class CallerRunsReviewTest {

    private static final long TIMEOUT_SECONDS = 30;

    @BeforeEach
    void resetProbe() {
        Probe.reset();
    }

    @AfterEach
    void stop() {
        Probe.reset();
    }

    @Test
    void a_waiting_caller_runs_only_its_own_command_not_the_ones_other_senders_queued_behind_it() throws Exception {
        Map<Long, String> handlerThreads = new ConcurrentHashMap<>();
        List<CompletableFuture<Long>> others = new ArrayList<>();
        try (Gyre node = Gyre.builder().name("caller-runs").sharedEventStore(new InMemoryEventStore())
                .aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("c"));
            Probe.onHandle(message -> {
                long amount = ((Add) message.payload()).amount();
                handlerThreads.put(amount, Thread.currentThread().getName());
                if (amount == 1) {
                    // While the caller decides its own command, another sender queues three behind it.
                    Thread sender = new Thread(() -> {
                        for (long other = 100; other < 103; other++) {
                            others.add(node.commandGateway().send(new Add("c", other)));
                        }
                    });
                    sender.start();
                    join(sender);
                } else {
                    sleep(300); // each of the others takes a while
                }
            });

            long started = System.nanoTime();
            long total = node.commandGateway().sendAndWait(new Add("c", 1), Duration.ofSeconds(TIMEOUT_SECONDS));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            for (CompletableFuture<Long> other : others) {
                other.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }

            assertThat(total).isEqualTo(1);
            assertThat(handlerThreads.get(1L)).as("the caller decided its own command")
                    .isEqualTo(Thread.currentThread().getName());
            assertThat(handlerThreads).as("the other sender's commands ran on the workers, not on the waiting caller")
                    .allSatisfy((amount, thread) -> {
                        if (amount != 1L) {
                            assertThat(thread).startsWith("caller-runs-command-");
                        }
                    });
            assertThat(tookMillis).as("the caller returned when its own command was decided, not after the others'")
                    .isLessThan(800);
        }
    }

    /**
     * Fails since caller-runs (8239735), passed before: the caller runs the handler on its own thread, so it cannot
     * be answered at its deadline while the handler (or the store load before it, or a refusal's confirmation in
     * the store) blocks; sendAndWait(500 ms) returned after 3.3 s. The command is answered "outcome unknown" by the
     * deadline timer, but the caller only sees it once the handler returns. Any blocking in Gyre's own code on that
     * thread (a pool timeout while loading an uncached aggregate: 30 s with HikariCP's default) holds the caller past
     * its deadline the same way. Not fixed here: it needs a decision on the trade-off (hand uncached loads to a
     * worker; make caller-runs opt-in; or document that the timeout does not bound a command the caller decides).
     */
    @Disabled("review finding: the deadline does not bound a command its caller runs; see the Javadoc")
    @Test
    void a_caller_whose_deadline_passes_while_it_decides_its_own_command_is_answered_at_the_deadline()
            throws Exception {
        try (Gyre node = Gyre.builder().name("caller-deadline").sharedEventStore(new InMemoryEventStore())
                .aggregate(Counter.class).workers(2).start()) {
            node.commandGateway().sendAndWait(new CreateCounter("d"));
            Probe.onHandle(message -> sleep(3_000)); // a handler slower than the caller's deadline

            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> node.commandGateway().sendAndWait(new Add("d", 1),
                    Duration.ofMillis(500)));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

            assertThat(thrown).isInstanceOf(CommandOutcomeUnknownException.class);
            assertThat(tookMillis).as("sendAndWait(500 ms) answered near its deadline, not when the handler ended")
                    .isLessThan(2_000);
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
