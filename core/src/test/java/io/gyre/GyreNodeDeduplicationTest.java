package io.gyre;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.command.CommandMessage;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.serialization.UnregisteredTypeException;
import io.gyre.testmodel.Counter;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddReturningUnregistered;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.Probe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A command whose events were stored but whose acknowledgement was lost (a node died after its commit, a reply
 * never arrived) is retried under the same command id; the retry finds the stored command and answers with its
 * original result instead of running again.
 */
class GyreNodeDeduplicationTest {

    private final LosesAcknowledgements store = new LosesAcknowledgements(new InMemoryEventStore());
    private Gyre node;

    @BeforeEach
    void start() {
        Probe.reset();
        node = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start();
    }

    @AfterEach
    void stop() {
        node.close();
    }

    @Test
    void a_retried_command_whose_events_are_stored_is_acknowledged_with_its_original_result_and_not_run_again() {
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        node.commandGateway().sendAndWait(new Add("c", 5));
        Probe.reset();

        store.loseNextAcknowledgements(1);
        long total = node.commandGateway().sendAndWait(new Add("c", 10));

        assertThat(total).as("the original result, not the result of running again").isEqualTo(15);
        assertThat(Probe.commandIds()).as("handler runs").hasSize(1);
        assertThat(store.readStream(StreamId.of("Counter", "c")).map(StoredEvent::sequence).toList()).containsExactly(0L, 1L, 2L);
        assertThat(node.commandGateway().<Long>sendAndWait(new Add("c", 0))).isEqualTo(15);
    }

    @Test
    void a_retried_creation_command_is_acknowledged_with_the_aggregate_id_instead_of_already_exists() {
        store.loseNextAcknowledgements(1);
        String id = node.commandGateway().sendAndWait(new CreateCounter("created-once"));
        assertThat(id).isEqualTo("created-once");
        assertThat(store.readStream(StreamId.of("Counter", "created-once")).count()).isEqualTo(1);
        assertThat(Probe.commandIds()).hasSize(1);
    }

    @Test
    void an_earlier_attempt_that_commits_after_a_retry_already_did_is_acknowledged_instead_of_stored_twice()
            throws Exception {
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        try (Gyre other = Gyre.builder().sharedEventStore(store).aggregate(Counter.class).start()) {
            CommandMessage first = CommandMessage.of(new Add("c", 10));
            store.holdNextAppend();
            CompletableFuture<Object> slowFirstAttempt = node.localCommandBus().dispatch(first);
            store.awaitHeld();

            Object retried = other.localCommandBus().dispatch(first.withAttempt(2)).get(5, TimeUnit.SECONDS);
            store.releaseHeld();
            Object original = slowFirstAttempt.get(5, TimeUnit.SECONDS);

            assertThat(retried).isEqualTo(10L);
            assertThat(original).as("the late attempt answers with the stored result").isEqualTo(10L);
            assertThat(store.readStream(StreamId.of("Counter", "c")).map(StoredEvent::commandId).filter(first.commandId()::equals).count())
                    .as("events of the command").isEqualTo(1);
            assertThat(node.commandGateway().<Long>sendAndWait(new Add("c", 1)))
                    .as("the late attempt's node dropped its cached aggregate").isEqualTo(11);
        }
    }

    @Test
    void a_client_that_sends_again_with_its_own_command_id_gets_the_first_result_and_no_second_effect() {
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        CommandMessage transfer = CommandMessage.of(new Add("c", 7)).withCommandId("client-key-1");
        long first = node.commandGateway().<Long>send(transfer, java.time.Duration.ofSeconds(5)).join();
        node.commandGateway().sendAndWait(new Add("c", 100));
        long again = node.commandGateway().<Long>send(transfer, java.time.Duration.ofSeconds(5)).join();

        assertThat(first).isEqualTo(7);
        assertThat(again).as("the stored result of the first send, not the state now").isEqualTo(7);
        assertThat(store.readStream(StreamId.of("Counter", "c")).filter(e -> e.commandId().equals("client-key-1")).count()).isEqualTo(1);
        assertThat(node.commandGateway().<Long>sendAndWait(new Add("c", 0))).isEqualTo(107);
    }

    @Test
    void a_resent_caller_keyed_command_is_answered_from_the_store_not_decided_again() {
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        CommandMessage withdraw = CommandMessage.of(new io.gyre.testmodel.CounterCommands.AddAtMost("c", 7, 10))
                .withCommandId("client-key-2");
        long first = node.commandGateway().<Long>send(withdraw, java.time.Duration.ofSeconds(5)).join();

        // Deciding again would refuse (7 + 7 > 10); the stored outcome of the first delivery is the answer.
        long again = node.commandGateway().<Long>send(withdraw, java.time.Duration.ofSeconds(5)).join();
        assertThat(again).isEqualTo(first).isEqualTo(7);
        assertThat(store.lastSequence(StreamId.of("Counter", "c"))).isEqualTo(1);
    }

    @Test
    void a_result_of_an_unregistered_type_fails_the_command_before_anything_is_stored() {
        node.commandGateway().sendAndWait(new CreateCounter("c"));
        assertThatThrownBy(() -> node.commandGateway().sendAndWait(new AddReturningUnregistered("c")))
                .isInstanceOf(UnregisteredTypeException.class)
                .hasMessageContaining(StringBuilder.class.getName())
                .hasMessageContaining("types(");
        assertThat(store.lastSequence(StreamId.of("Counter", "c"))).isZero();
        assertThat(node.commandGateway().<Long>sendAndWait(new Add("c", 2))).isEqualTo(2);
    }

    /** Stores appends, then reports a transient failure as if the acknowledgement had been lost. */
    static final class LosesAcknowledgements extends ForwardingEventStore {

        private final AtomicInteger toLose = new AtomicInteger();
        private volatile CountDownLatch held = new CountDownLatch(0);
        private volatile CountDownLatch release = new CountDownLatch(0);
        private final AtomicInteger toHold = new AtomicInteger();

        LosesAcknowledgements(InMemoryEventStore delegate) {
            super(delegate);
        }

        void loseNextAcknowledgements(int count) {
            toLose.set(count);
        }

        void holdNextAppend() {
            held = new CountDownLatch(1);
            release = new CountDownLatch(1);
            toHold.set(1);
        }

        void awaitHeld() throws InterruptedException {
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
        }

        void releaseHeld() {
            release.countDown();
        }

        @Override
        public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request); // the fault below blocks or fails the caller
        }

        @Override
        public AppendResult append(AppendRequest request) {
            if (toHold.getAndDecrement() > 0) {
                held.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            AppendResult result = super.append(request);
            if (toLose.getAndDecrement() > 0) {
                throw new EventStoreException("connection lost after the commit of " + request.commandId(), null);
            }
            return result;
        }
    }
}
