package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.BeanSerializerModifier;
import io.gyre.Gyre;
import io.gyre.command.CommandMessage;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.jgroups.protocols.pbcast.GMS;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A command whose owner leaves the view while the sender's outbox is taking it out (between leaving the queue and
 * being registered as pending) is re-routed to the new owner at once: it never waits for a reply from a member that
 * is gone, which no departure would ever end, until its deadline.
 */
class OwnerGoneWhileSendingTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final HeldSerialization held = new HeldSerialization();

    @AfterEach
    void stop() {
        held.release();
        cluster.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_command_whose_owner_crashes_while_it_is_being_sent_is_rerouted_before_its_deadline() throws Exception {
        assertRerouted(true);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void a_command_whose_owner_leaves_while_it_is_being_sent_is_rerouted_before_its_deadline() throws Exception {
        assertRerouted(false);
    }

    private void assertRerouted(boolean crash) throws Exception {
        Gyre sender = cluster.start("node-a", bus -> { }, gyre -> gyre.aggregate(Ledger.class)
                .objectMapper(held.mapper()));
        cluster.start("node-b");
        cluster.awaitConvergence(Duration.ofSeconds(20));
        String ledger = ownedBy("node-b");
        sender.commandGateway().sendAndWait(new OpenLedger(ledger));

        CompletableFuture<Object> outcome = sender.commandGateway().send(
                CommandMessage.of(new Post(ledger, 5, HeldSerialization.HELD)), Duration.ofSeconds(30));
        // The outbox thread to node-b has taken the command from its queue and is serializing it: not pending yet.
        assertThat(held.awaitHeld(20, TimeUnit.SECONDS)).as("the command reached node-a's outbox to node-b").isTrue();
        Address gone = cluster.bus("node-b").addressForTest();
        if (crash) {
            cluster.crash("node-b");
        } else {
            cluster.leave("node-b");
        }
        // Node-a has handled the view without node-b: its outbox to node-b is closed, its requests to it failed.
        cluster.awaitConvergence(Duration.ofSeconds(20));
        GMS views = cluster.bus("node-a").protocolForTest(GMS.class);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (views.view().containsMember(gone)) {
            assertThat(System.nanoTime() - until).as("node-a's view still holds node-b").isNegative();
            Thread.sleep(10);
        }
        long released = System.nanoTime();
        held.release();

        // Node-a now owns the ledger. Without a reply from node-b, which is gone, only a re-send can answer it;
        // waiting for the 30 s deadline instead would time out here.
        assertThat(outcome.get(10, TimeUnit.SECONDS)).as("the posting's answer: the ledger's balance after it")
                .isEqualTo(5L);
        assertThat(Duration.ofNanos(System.nanoTime() - released)).isLessThan(Duration.ofSeconds(10));
        assertThat(cluster.bus("node-a").pendingRemoteCommands()).isZero();
    }

    private String ownedBy(String member) {
        return IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, "Ledger").id().equals(member))
                .findFirst().orElseThrow();
    }

    /**
     * Holds the serialization of the one {@link Post} whose reference is {@link #HELD} on an outbox thread, where a
     * command is serialized after it left its outbox's queue and before it is registered as pending, until released.
     */
    static final class HeldSerialization {

        static final String HELD = "held";

        private final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        ObjectMapper mapper() {
            SimpleModule module = new SimpleModule("held-serialization");
            module.setSerializerModifier(new BeanSerializerModifier() {
                @Override
                @SuppressWarnings("unchecked")
                public JsonSerializer<?> modifySerializer(SerializationConfig config, BeanDescription description,
                                                          JsonSerializer<?> serializer) {
                    if (description.getBeanClass() != Post.class) {
                        return serializer;
                    }
                    JsonSerializer<Object> plain = (JsonSerializer<Object>) serializer;
                    return new JsonSerializer<Object>() {
                        @Override
                        public void serialize(Object value, JsonGenerator generator, SerializerProvider provider)
                                throws IOException {
                            hold((Post) value);
                            plain.serialize(value, generator, provider);
                        }
                    };
                }
            });
            return new ObjectMapper().registerModule(module);
        }

        private void hold(Post post) {
            if (!HELD.equals(post.ref()) || !Thread.currentThread().getName().startsWith("gyre-outbox-")
                    || reached.getCount() == 0) {
                return;
            }
            reached.countDown();
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        boolean awaitHeld(long timeout, TimeUnit unit) throws InterruptedException {
            return reached.await(timeout, unit);
        }

        void release() {
            released.countDown();
        }
    }
}
