package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Metadata;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of the two merges together (h-newcomer's {@code SendAgain}, h-closed's {@code StoreClosed}): node-d's
 * posting runs on node-b, its append held; a notice makes node-d send it again; node-b's store then refuses every read
 * (closed, "nothing of this was read or stored") while the held append goes through. The re-sent delivery's look-up
 * fails on the closed store and crosses the wire as "not executed": the caller must still hear "outcome unknown",
 * since the first delivery is stored.
 */
class SendAgainThenStoreClosedReviewTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final CountDownLatch appendHeld = new CountDownLatch(1);
    private final CountDownLatch releaseAppend = new CountDownLatch(1);
    private volatile String holdLedger = "";
    private volatile boolean readsClosed;
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
                return super.append(request); // the held first delivery is written, closed or not
            }
            if (readsClosed) {
                throw closed();
            }
            return super.append(request);
        }

        @Override
        public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
            if (readsClosed) {
                throw closed();
            }
            return super.readStream(stream, fromSequence);
        }

        @Override
        public long lastSequence(StreamId stream) {
            if (readsClosed) {
                throw closed();
            }
            return super.lastSequence(stream);
        }

        @Override
        public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
            if (readsClosed) {
                throw closed();
            }
            return super.findCommand(stream, commandId);
        }
    };
    private final TestCluster cluster = new TestCluster(store);
    private final InjectFrames intoB = new InjectFrames();
    private final InjectFrames intoD = new InjectFrames();

    private static EventStoreClosedException closed() {
        return new EventStoreClosedException("closed (injected): nothing of this was read or stored", null);
    }

    @AfterEach
    void stop() {
        releaseAppend.countDown();
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_command_sent_again_on_a_notice_and_refused_by_the_closed_store_is_never_not_executed_when_stored()
            throws Exception {
        cluster.start("node-b", bus -> bus.customizeStack(stack -> stack.add(intoB)));
        cluster.start("node-d", bus -> bus.customizeStack(stack -> stack.add(intoD)));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-d").ring().owner(id, "Ledger").id().equals("node-b"))
                .findFirst().orElseThrow();
        cluster.node("node-d").commandGateway().sendAndWait(new OpenLedger(ledger));
        intoB.watch(cluster.bus("node-d").addressForTest());
        holdLedger = ledger;

        long t0 = System.nanoTime();
        CompletableFuture<Long> post = cluster.node("node-d").commandGateway().send(new Post(ledger, 7, "closing"),
                Metadata.empty(), DEADLINE);
        assertThat(appendHeld.await(20, TimeUnit.SECONDS)).as("node-b runs the posting, its append held").isTrue();
        readsClosed = true;
        intoD.inject(cluster.bus("node-b").addressForTest(), WireFormat.encode(new WireMessage.SendAgain(9)));
        await("node-d sent the posting again", () -> intoB.commandsFromWatched() >= 2);
        releaseAppend.countDown();

        Throwable failure;
        try {
            Object value = post.get(DEADLINE.toSeconds() + 10, TimeUnit.SECONDS);
            throw new AssertionError("a closed store answered " + value);
        } catch (ExecutionException e) {
            failure = e.getCause();
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        readsClosed = false;
        long stored = events.lastSequence(StreamId.of("Ledger", ledger));
        System.out.printf("re-sent posting, closed store: %s after %d ms (deadline %d ms); stored events %d%n",
                failure.getClass().getSimpleName(), millis, DEADLINE.toMillis(), stored);
        assertThat(stored).as("opened, and the first delivery's posting").isEqualTo(1);
        assertThat(failure).as("the posting is stored").isNotInstanceOf(CommandNotExecutedException.class)
                .isInstanceOf(CommandOutcomeUnknownException.class);
        assertThat(millis).as("answered at once, not at the deadline").isLessThan(DEADLINE.toMillis() / 2);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(10);
        }
    }
}
