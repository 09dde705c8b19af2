package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.command.CommandGateway;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review of 87f46d9 re-applied (an aggregate's turn ends before its command is answered): a sender that sends the
 * aggregate's next command as soon as it is answered, on its own thread ({@code sendAndWait}) or on the thread that
 * answered it (the next {@code send} chained on the answer), never overlaps its previous command, never decides on a
 * state without it, and keeps its order, while other senders do the same on the same aggregate and appends complete
 * on threads of their own.
 */
class TurnEndsBeforeAnswerReviewTest {

    private static final String ID = "turns";
    private static final int COMMANDS = 400;
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ExecutorService writers = Executors.newFixedThreadPool(2);
    private final ExecutorService callers = Executors.newFixedThreadPool(4);

    @BeforeEach
    void resetProbe() {
        Probe.reset();
    }

    @AfterEach
    void stop() throws InterruptedException {
        Probe.reset();
        writers.shutdownNow();
        callers.shutdownNow();
        assertThat(writers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(callers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void senders_that_send_again_as_soon_as_answered_see_their_own_commands_in_order_and_never_overlap()
            throws Exception {
        // Appends that complete later on another thread (as a store's writer does), or at once, at random.
        ForwardingEventStore store = new ForwardingEventStore(new InMemoryEventStore()) {
            @Override
            public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
                if (ThreadLocalRandom.current().nextBoolean()) {
                    return super.appendAsync(request);
                }
                return CompletableFuture.supplyAsync(() -> super.append(request), writers);
            }
        };
        try (Gyre node = Gyre.builder().name("turns").sharedEventStore(store).aggregate(Counter.class).workers(3)
                .start()) {
            CommandGateway gateway = node.commandGateway();
            gateway.sendAndWait(new CreateCounter(ID), WAIT);

            int waiting = 2;
            int chained = 2;
            CyclicBarrier start = new CyclicBarrier(waiting + chained);
            List<CompletableFuture<List<Long>>> senders = new ArrayList<>();
            for (int s = 0; s < waiting; s++) {
                senders.add(CompletableFuture.supplyAsync(() -> {
                    await(start);
                    List<Long> totals = new ArrayList<>();
                    for (int i = 0; i < COMMANDS; i++) {
                        totals.add(gateway.<Long>sendAndWait(new Add(ID, 1), WAIT));
                    }
                    return totals;
                }, callers));
            }
            for (int s = 0; s < chained; s++) {
                CompletableFuture<List<Long>> done = new CompletableFuture<>();
                senders.add(done);
                CompletableFuture.runAsync(() -> {
                    await(start);
                    sendChained(gateway, new ArrayList<>(), done);
                }, callers);
            }
            List<List<Long>> totals = new ArrayList<>();
            for (CompletableFuture<List<Long>> sender : senders) {
                totals.add(sender.get(60, TimeUnit.SECONDS));
            }

            assertThat(Probe.overlaps()).as("commands of the aggregate that ran at once").isZero();
            for (List<Long> own : totals) {
                assertThat(own).hasSize(COMMANDS);
                for (int i = 1; i < own.size(); i++) {
                    // Each answer's total includes the sender's previous command and this one: at least one more.
                    assertThat(own.get(i)).as("total after command %s of a sender", i).isGreaterThan(own.get(i - 1));
                }
            }
            long all = (long) (waiting + chained) * COMMANDS;
            assertThat(totals.stream().mapToLong(own -> own.get(own.size() - 1)).max().orElseThrow()).isEqualTo(all);
            assertThat(gateway.<Long>sendAndWait(new Add(ID, 0), WAIT)).isEqualTo(all);
        }
    }

    /** Sends the next command on the thread that completes the answer of the one before. */
    private static void sendChained(CommandGateway gateway, List<Long> totals, CompletableFuture<List<Long>> done) {
        if (totals.size() == COMMANDS) {
            done.complete(totals);
            return;
        }
        gateway.<Long>send(new Add(ID, 1)).whenComplete((total, failure) -> {
            if (failure != null) {
                done.completeExceptionally(failure);
                return;
            }
            totals.add(total);
            sendChained(gateway, totals, done);
        });
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
