package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Metadata;
import io.gyre.command.CommandMessage;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of 874ad2a through the JGroups bus: the owner's event store closes, once as it was writing a post (which
 * is stored: the close cut it short after the commit, so it says "may have been stored"), once with nothing of it
 * stored. The caller on another member must never hear "not executed" for the stored post, and must be answered at
 * once, as a caller on the owner is, not at its deadline. (Observed before the fix: the owner's closed failure
 * crossed the wire as a plain transient {@code EventStoreException}, which the caller's gateway retried to the same
 * owner until the deadline, 6,017 ms and 6,005 ms for a 6,000 ms deadline, both answered outcome unknown.)
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
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void the_post_the_closing_store_wrote_is_answered_at_once_under_an_id_that_makes_a_resend_safe() throws Exception {
        Answers answers = run();
        assertThat(answers.writtenMillis()).as("ms until the stored post was answered, deadline %d ms",
                DEADLINE.toMillis()).isLessThan(DEADLINE.toMillis() / 2);
        assertThat(answers.written()).isInstanceOf(CommandOutcomeUnknownException.class);
        String commandId = ((CommandOutcomeUnknownException) answers.written()).commandId();
        StreamId stream = StreamId.of("Ledger", answers.ledger());
        assertThat(events.findCommand(stream, commandId)).as("the stored post, under the id the caller was given")
                .isPresent();

        state.set(0); // the store is back (a node restarted with it, say): the caller re-sends under that id
        cluster.node("node-b").commandGateway().sendAndWait(CommandMessage.of(new Post(answers.ledger(), 5, "p-1"))
                .withCommandId(commandId), DEADLINE);
        assertThat(events.lastSequence(stream)).as("the re-sent post, stored once").isEqualTo(1);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void a_caller_on_another_member_is_answered_before_its_deadline_when_the_owners_store_closed() throws Exception {
        Answers answers = run();
        assertThat(answers.refusedMillis()).as("ms until the refused post was answered, deadline %d ms",
                DEADLINE.toMillis()).isLessThan(DEADLINE.toMillis() / 2);
        assertThat(answers.refused()).as("the post the closed store refused, nothing of it stored")
                .isInstanceOf(CommandNotExecutedException.class);
    }

    private record Answers(String ledger, Throwable written, long writtenMillis, Throwable refused,
                           long refusedMillis) {
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
        return new Answers(ledger, written, writtenMillis, refused, refusedMillis);
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
