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
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of 874ad2a through the JGroups bus: the owner's event store closes, once as it was writing a post (which
 * is stored: the close cut it short after the commit, so it says "may have been stored"), once with nothing of it
 * stored. The caller on another member must never hear "not executed" for the stored post. The owner's closed
 * failure crosses the wire as a plain {@code EventStoreException} (ErrorCodec has no entry for the closed one), so
 * the caller's gateway retries it to the same owner until the deadline, and answers outcome unknown then, whether
 * anything was stored or not.
 */
class RemoteOwnerStoreClosedReviewTest {

    private static final Duration DEADLINE = Duration.ofSeconds(6);

    private final InMemoryEventStore events = new InMemoryEventStore();
    /** 0 open, 1 closes while writing the next append (which is stored), 2 closed. */
    private final AtomicInteger state = new AtomicInteger();
    private final ForwardingEventStore ownerStore = new ForwardingEventStore(events) {
        @Override
        public CompletableFuture<AppendResult> appendAsync(AppendRequest request) {
            if (state.compareAndSet(1, 2)) {
                return super.appendAsync(request).thenApply(stored -> {
                    throw new EventStoreClosedException("closed while writing (injected)", null, true);
                });
            }
            return state.get() == 2 ? CompletableFuture.failedFuture(closed()) : super.appendAsync(request);
        }

        @Override
        public Stream<StoredEvent> readStream(StreamId stream, long fromSequence) {
            if (state.get() == 2) {
                throw closed();
            }
            return super.readStream(stream, fromSequence);
        }

        @Override
        public long lastSequence(StreamId stream) {
            if (state.get() == 2) {
                throw closed();
            }
            return super.lastSequence(stream);
        }

        @Override
        public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
            if (state.get() == 2) {
                throw closed();
            }
            return super.findCommand(stream, commandId);
        }
    };
    private final TestCluster cluster = new TestCluster(events);

    private static EventStoreClosedException closed() {
        return new EventStoreClosedException("closed (injected): nothing of this was read or stored", null);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void a_caller_on_another_member_never_hears_not_executed_for_a_post_the_closing_store_wrote() throws Exception {
        Answers answers = run();
        assertThat(answers.written()).as("the post the closing store wrote")
                .isNotInstanceOf(CommandNotExecutedException.class)
                .isInstanceOf(CommandOutcomeUnknownException.class);
        assertThat(answers.refused()).as("the post the closed store refused")
                .isInstanceOfAny(CommandNotExecutedException.class, CommandOutcomeUnknownException.class);
    }

    @Test
    @Disabled("Observed (review of 874ad2a): the remote caller is answered only at its deadline, 6,017 ms and 6,005 ms "
            + "for a 6,000 ms deadline, both CommandOutcomeUnknownException (the refused post stored nothing): the "
            + "owner's EventStoreClosedException crosses the wire as a transient EventStoreException (ErrorCodec has "
            + "no kind for it and loses mayHaveBeenStored), which the caller's gateway retries to the same owner "
            + "until the deadline. A new wire kind is read by members of earlier versions as a handler failure "
            + "(final), so the fix needs a rolling-upgrade plan; left for the lead")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void a_caller_on_another_member_is_answered_before_its_deadline_when_the_owners_store_closed() throws Exception {
        Answers answers = run();
        assertThat(answers.refusedMillis()).as("ms until the refused post was answered, deadline %d ms",
                DEADLINE.toMillis()).isLessThan(DEADLINE.toMillis() / 2);
        assertThat(answers.refused()).as("the post the closed store refused, nothing of it stored")
                .isInstanceOf(CommandNotExecutedException.class);
    }

    private record Answers(Throwable written, long writtenMillis, Throwable refused, long refusedMillis) {
    }

    private Answers run() throws Exception {
        cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(Ledger.class).sharedEventStore(ownerStore));
        cluster.start("node-b");
        cluster.awaitConvergence(Duration.ofSeconds(30));
        String ledger = IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals("node-a")
                        && cluster.bus("node-b").ring().owner(id, "Ledger").id().equals("node-a"))
                .findFirst().orElseThrow();
        cluster.node("node-b").commandGateway().sendAndWait(new OpenLedger(ledger));

        state.set(1);
        long t0 = System.nanoTime();
        Throwable written = failure(cluster.node("node-b").commandGateway().send(new Post(ledger, 5, "p-1"),
                Metadata.empty(), DEADLINE));
        long writtenMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(events.lastSequence(StreamId.of("Ledger", ledger))).as("the post is stored").isEqualTo(1);

        t0 = System.nanoTime();
        Throwable refused = failure(cluster.node("node-b").commandGateway().send(new Post(ledger, 6, "p-2"),
                Metadata.empty(), DEADLINE));
        long refusedMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(events.lastSequence(StreamId.of("Ledger", ledger))).as("the second post is not stored")
                .isEqualTo(1);
        System.out.printf("remote caller: stored post answered %s after %d ms; refused post answered %s after %d ms"
                + " (deadline %d ms)%n", written.getClass().getSimpleName(), writtenMillis,
                refused.getClass().getSimpleName(), refusedMillis, DEADLINE.toMillis());
        return new Answers(written, writtenMillis, refused, refusedMillis);
    }

    private static Throwable failure(CompletableFuture<Object> pending) throws Exception {
        try {
            Object value = pending.get(30, TimeUnit.SECONDS);
            throw new AssertionError("a closed store answered " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }
}
