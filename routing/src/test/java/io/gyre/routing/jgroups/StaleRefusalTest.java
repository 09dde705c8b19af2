package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandRefusedException;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import io.gyre.routing.testmodel.UpgradedLedger;
import io.gyre.routing.testmodel.UpgradedLedger.Debit;
import io.gyre.routing.testmodel.UpgradedLedger.InsufficientBalance;
import io.gyre.serialization.SerializedValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.jgroups.Address;
import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two members that both own every ledger (a partition) and keep deciding debits, some of them refusals: no refusal
 * may reach a client that the committed balance contradicts for the whole time the request was open. A checker
 * replays each ledger's stored history with the times its appends committed and looks for such a refusal.
 */
class StaleRefusalTest {

    private static final List<String> LEDGERS = IntStream.range(0, 8).mapToObj(i -> "ledger-" + i).toList();

    /** When each stored event's append started and returned: it committed somewhere in between. */
    private final Map<String, long[]> commitWindows = new ConcurrentHashMap<>();
    private final InMemoryEventStore events = new InMemoryEventStore();
    private final ForwardingEventStore store = new ForwardingEventStore(events) {
        @Override
        public java.util.concurrent.CompletableFuture<io.gyre.eventstore.AppendResult> appendAsync(AppendRequest request) {
            return appendOnCallingThread(request); // the fault below blocks or fails the caller
        }

        @Override
        public AppendResult append(AppendRequest request) {
            long before = System.nanoTime();
            AppendResult result = super.append(request);
            long after = System.nanoTime();
            for (long sequence = result.firstSequence(); sequence <= result.lastSequence(); sequence++) {
                commitWindows.put(request.aggregateId() + "#" + sequence, new long[] {before, after});
            }
            return result;
        }
    };
    private final TestCluster cluster = new TestCluster(store);
    private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private record Refusal(String ledger, long amount, long sent, long answered, String message) {
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void no_refusal_contradicted_by_the_committed_balance_reaches_a_client_while_two_members_own_a_ledger()
            throws Exception {
        for (String node : List.of("node-a", "node-b")) {
            cluster.start(node, bus -> bus.customizeStack(stack -> stack.add(1, new DISCARD())),
                    gyre -> gyre.aggregate(UpgradedLedger.class));
        }
        cluster.awaitConvergence(Duration.ofSeconds(20));
        for (String ledger : LEDGERS) {
            cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
            cluster.node("node-a").commandGateway().sendAndWait(new Post(ledger, 20, "seed-" + ledger));
        }
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        for (String node : List.of("node-a", "node-b")) {
            for (int c = 0; c < 2; c++) {
                String name = node + "-client-" + c;
                Thread client = new Thread(() -> trade(cluster.node(node), name, running), name);
                client.start();
                clients.add(client);
            }
        }
        Thread.sleep(500);
        cut("node-a", "node-b");
        cut("node-b", "node-a");
        awaitAlone("node-a");
        awaitAlone("node-b");
        Thread.sleep(2_500);
        for (String node : List.of("node-a", "node-b")) {
            cluster.bus(node).protocolForTest(DISCARD.class).resetIgnoredMembers();
        }
        cluster.awaitConvergence(Duration.ofSeconds(30));
        Thread.sleep(500);
        running.set(false);
        for (Thread client : clients) {
            client.join(60_000);
        }

        assertThat(failures).as("client failures").isEmpty();
        assertThat(refusals).as("refusals to check").isNotEmpty();
        for (Refusal refusal : refusals) {
            assertThat(lowestPossibleBalance(refusal)).as("%s: a balance below %d at some moment of the request",
                    refusal, refusal.amount()).isLessThan(refusal.amount());
        }
    }

    /** Debits and credits a random ledger in a loop, recording every refusal with the time it was open. */
    private void trade(Gyre node, String name, AtomicBoolean running) {
        for (long n = 0; running.get(); n++) {
            String ledger = LEDGERS.get(ThreadLocalRandom.current().nextInt(LEDGERS.size()));
            long amount = 1 + ThreadLocalRandom.current().nextInt(12);
            long sent = System.nanoTime();
            try {
                if (ThreadLocalRandom.current().nextInt(5) < 2) {
                    node.commandGateway().sendAndWait(new Post(ledger, amount, name + "-" + n), Duration.ofSeconds(20));
                } else {
                    node.commandGateway().sendAndWait(new Debit(ledger, amount, name + "-" + n),
                            Duration.ofSeconds(20));
                }
            } catch (InsufficientBalance | CommandRefusedException e) {
                refusals.add(new Refusal(ledger, amount, sent, System.nanoTime(), e.getMessage()));
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
    }

    /**
     * The lowest balance the ledger may have had at any moment while the request was open: the stream's state at
     * a moment is a prefix of it, at least the events whose append had returned when the request was sent, at most
     * those whose append had started when it was answered.
     */
    private long lowestPossibleBalance(Refusal refusal) {
        List<StoredEvent> stream = events.readStream(StreamId.of("Ledger", refusal.ledger())).toList();
        long[] prefix = new long[stream.size() + 1];
        int certain = 0;
        int possible = 0;
        for (int i = 0; i < stream.size(); i++) {
            StoredEvent event = stream.get(i);
            Object payload = cluster.node("node-a").serializer().deserialize(new SerializedValue(event.type(),
                    event.payload()));
            prefix[i + 1] = prefix[i] + (payload instanceof Posted posted ? posted.amount() : 0);
            long[] window = commitWindows.get(refusal.ledger() + "#" + event.sequence());
            if (window[1] <= refusal.sent()) {
                certain = i + 1;
            }
            if (window[0] <= refusal.answered()) {
                possible = i + 1;
            }
        }
        long lowest = Long.MAX_VALUE;
        for (int k = certain; k <= possible; k++) {
            lowest = Math.min(lowest, prefix[k]);
        }
        return lowest;
    }

    private void cut(String from, String to) {
        Address other = cluster.bus(to).addressForTest();
        cluster.bus(from).protocolForTest(DISCARD.class).addIgnoredMembers(other);
    }

    private void awaitAlone(String node) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!cluster.bus(node).members().equals(List.of(node))) {
            assertThat(System.nanoTime() < deadline).as("%s alone on its side", node).isTrue();
            Thread.sleep(20);
        }
    }
}
