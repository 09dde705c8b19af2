package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Metadata;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.RetryPolicy;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of the {@code SendAgain} notice (merge of h-newcomer) through real JGroups channels: node-d's posting runs on
 * node-b, its append held, while notices from node-b reach node-d (injected under node-b's address, as a member of the
 * view would send them). What each notice costs, what a stale view id does, and what a caller whose gateway does not
 * retry hears.
 */
class SendAgainNoticeReviewTest {

    private final CountDownLatch appendHeld = new CountDownLatch(1);
    private final CountDownLatch releaseAppend = new CountDownLatch(1);
    private volatile String holdLedger = "";
    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ForwardingEventStore store = new ForwardingEventStore(events) {
        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request);
        }

        @Override
        public AppendResult append(AppendRequest request) {
            if (request.aggregateId().equals(holdLedger) && !request.events().isEmpty()
                    && appendHeld.getCount() > 0) {
                appendHeld.countDown();
                try {
                    releaseAppend.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.append(request);
        }
    };
    private final TestCluster cluster = new TestCluster(store);
    private final InjectFrames intoB = new InjectFrames();
    private final InjectFrames intoD = new InjectFrames();

    @AfterEach
    void stop() {
        releaseAppend.countDown();
        cluster.close();
    }

    private String start(RetryPolicy policyOfD) throws Exception {
        cluster.start("node-b", bus -> bus.customizeStack(stack -> stack.add(intoB)));
        cluster.start("node-d", bus -> bus.customizeStack(stack -> stack.add(intoD)),
                gyre -> gyre.aggregate(Ledger.class).retryPolicy(policyOfD));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-d").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-d").commandGateway().sendAndWait(new OpenLedger(ledger));
        intoB.watch(cluster.bus("node-d").addressForTest());
        holdLedger = ledger;
        return ledger;
    }

    private void notice(long viewId) throws Exception {
        intoD.inject(cluster.bus("node-b").addressForTest(), WireFormat.encode(new WireMessage.SendAgain(viewId)));
    }

    /**
     * Cost, not a defect: the view id a notice carries is never checked (it cannot be, safely: the receiver does not
     * know when the sender installed that view), so each notice, stale or repeated, sends every waiting command again.
     * The store keeps it to one run; the owner pays a command read, a queue place and a look-up per notice and command.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void every_notice_even_a_stale_or_repeated_one_sends_each_waiting_command_again_which_is_still_stored_once()
            throws Exception {
        String ledger = start(RetryPolicy.defaults());
        CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7, "once"),
                Metadata.empty(), Duration.ofSeconds(40));
        assertThat(appendHeld.await(20, TimeUnit.SECONDS)).as("node-b runs the posting, its append held").isTrue();
        int notices = 5;
        for (int i = 1; i <= notices; i++) {
            notice(1); // view 1: older than any view that holds node-d with node-b
            int expected = i + 1;
            await("node-d sent the posting again after notice " + i, () -> intoB.commandsFromWatched() >= expected);
        }
        releaseAppend.countDown();
        assertThat(post.get(30, TimeUnit.SECONDS)).as("the first run's decision").isEqualTo(7L);
        List<StoredEvent> stored = events.readStream(StreamId.of("Ledger", ledger), 0).toList();
        assertThat(stored).as("opened, and posted once").hasSize(2);
        System.out.printf("%d SendAgain notices for a stale view id: node-b read node-d's one posting %d times; "
                + "stored once%n", notices, intoB.commandsFromWatched());
    }

    /**
     * A caller whose gateway gives a command one attempt: the notice ends the waiting delivery, which the gateway
     * hands over as it is, while the delivery is running on the owner and is stored a moment later. (Observed before
     * the fix: a plain {@code GyreTransientException} saying the command "is sent again under its command id", which
     * it was not; read as transient, it invites a re-send under a new id, and a second posting.)
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_caller_without_retries_hears_outcome_unknown_for_a_running_command_its_notice_ended() throws Exception {
        String ledger = start(RetryPolicy.none());
        CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7, "ran"),
                Metadata.empty(), Duration.ofSeconds(40));
        assertThat(appendHeld.await(20, TimeUnit.SECONDS)).as("node-b runs the posting, its append held").isTrue();
        notice(1);
        Throwable failure;
        try {
            Object value = post.get(30, TimeUnit.SECONDS);
            throw new AssertionError("answered " + value + " while its append is held");
        } catch (ExecutionException e) {
            failure = e.getCause();
        }
        releaseAppend.countDown();
        await("the posting is stored", () -> events.lastSequence(StreamId.of("Ledger", ledger)) == 1);
        System.out.printf("no-retry caller heard %s: %s%n", failure.getClass().getName(), failure.getMessage());
        assertThat(failure).as("a delivery that was running, and is stored").isInstanceOf(
                CommandOutcomeUnknownException.class);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }
}
