package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Review of non-blocking JGroups sends (a queue of 1024 messages per connection, a send to a full queue dropped and
 * left to UNICAST3 to retransmit): a burst of far more than 1024 messages to a member that stops reading for a while
 * must still be answered in full once it reads again, each command stored once and in send order per aggregate.
 * (In the review, flow control and the outbox's batching kept that queue under 100 messages even at 80,000 commands,
 * so what this guards is the burst to a frozen member, not the drop path; sizes are kept small for the build.)
 */
class BurstToAFrozenMemberReviewTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final TestCluster cluster = new TestCluster(store);
    private final Freeze freeze = new Freeze();

    @AfterEach
    void stop() {
        freeze.thaw();
        cluster.close();
    }

    @ParameterizedTest(name = "{0} commands of {1} bytes")
    @CsvSource({"5000, 1", "200, 100000"})
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void a_burst_beyond_the_send_queue_to_a_member_that_stopped_reading_is_answered_in_full_once_it_reads(
            int commands, int bytes) throws Exception {
        cluster.start("node-a", bus -> bus.maxInFlightPerMember(100_000));
        cluster.start("node-c", bus -> bus.customizeStack(protocols -> protocols.add(1, freeze))
                .suspectAfter(Duration.ofMinutes(5)).maxInFlightPerMember(100_000));
        cluster.awaitConvergence(Duration.ofSeconds(20));
        Gyre sender = cluster.node("node-a");
        List<String> onC = ownedBy("node-c", 10);
        for (String ledger : onC) {
            sender.commandGateway().sendAndWait(new OpenLedger(ledger));
        }

        freeze.freeze();
        String padding = "x".repeat(bytes);
        List<CompletableFuture<Object>> outcomes = new ArrayList<>();
        for (int i = 0; i < commands; i++) {
            outcomes.add(sender.commandGateway().send(new Post(onC.get(i % onC.size()), i, i + "-" + padding),
                    Metadata.empty(), Duration.ofMinutes(4)));
        }
        Thread.sleep(3000); // the sender's socket and send queue to node-c fill up meanwhile
        freeze.thaw();
        long thawed = System.nanoTime();
        CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).join();
        System.out.printf("burst of %d x %d bytes answered %d ms after the thaw%n", commands, bytes,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - thawed));

        Map<String, List<Long>> amounts = new HashMap<>();
        for (String ledger : onC) {
            List<Long> posted = new ArrayList<>();
            try (var events = store.readStream(StreamId.of("Ledger", ledger))) {
                events.skip(1).forEach(event -> posted.add(event.sequence()));
            }
            amounts.put(ledger, posted);
        }
        int stored = amounts.values().stream().mapToInt(List::size).sum();
        assertThat(stored).as("each command stored exactly once").isEqualTo(commands);
        for (int l = 0; l < onC.size(); l++) {
            String ledger = onC.get(l);
            int ledgerIndex = l;
            List<Long> sent = IntStream.range(0, commands).filter(i -> i % onC.size() == ledgerIndex)
                    .mapToObj(i -> (long) i).toList();
            List<Long> inOrder = new ArrayList<>();
            try (var events = store.readStream(StreamId.of("Ledger", ledger))) {
                events.skip(1).forEach(event -> inOrder.add(amountOf(sender, event)));
            }
            assertThat(inOrder).as(ledger + " in send order").containsExactlyElementsOf(sent);
        }
    }

    private static long amountOf(Gyre node, StoredEvent event) {
        Object payload = node.serializer().deserialize(new io.gyre.serialization.SerializedValue(event.type(),
                event.payload()));
        return ((io.gyre.routing.testmodel.LedgerMessages.Posted) payload).amount();
    }

    private List<String> ownedBy(String member, int count) {
        String type = "Ledger";
        return IntStream.range(0, 100_000).mapToObj(i -> "ledger-" + i)
                .filter(id -> cluster.bus("node-a").ring().owner(id, type).id().equals(member))
                .limit(count).toList();
    }
}
