package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.eventstore.jdbc.JdbcEventStore;
import io.gyre.routing.testmodel.LedgerCheck;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import io.gyre.routing.testmodel.LedgerMessages.Posted;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review: a member that comes back under the same name at once, while clients keep posting through the two other
 * members, and while the others may still hold its old incarnation in their view (a crash) or have just seen it
 * leave (a graceful leave). No posting may be lost or stored twice, and none reported "not executed" may be stored
 * (I1, I2, I8).
 */
class QuickRestartReviewTest {

    private static final List<String> LEDGERS = IntStream.range(0, 40).mapToObj(i -> "ledger-" + i).toList();

    @TempDir
    Path folder;
    private JdbcEventStore store;
    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        store = JdbcEventStore.h2(folder.resolve("events"));
        cluster = new TestCluster(store);
        for (String node : List.of("node-a", "node-b", "node-c")) {
            cluster.start(node);
        }
        cluster.awaitConvergence(Duration.ofSeconds(30));
        for (String ledger : LEDGERS) {
            cluster.node("node-a").commandGateway().sendAndWait(new OpenLedger(ledger));
        }
    }

    @AfterEach
    void stop() {
        cluster.close();
        store.close();
    }

    @Test
    void a_member_that_crashes_and_restarts_under_its_name_at_once_loses_doubles_and_misreports_nothing()
            throws Exception {
        restartUnderLoad(cluster::crash);
    }

    @Test
    void a_member_that_leaves_and_restarts_under_its_name_at_once_loses_doubles_and_misreports_nothing()
            throws Exception {
        restartUnderLoad(cluster::leave);
    }

    private void restartUnderLoad(Consumer<String> stop) throws Exception {
        LedgerCheck check = new LedgerCheck();
        Set<String> notExecuted = ConcurrentHashMap.newKeySet();
        Map<String, Throwable> failures = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong counter = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            // Clients post through node-a and node-b only: node-c is the one that restarts.
            String through = t % 2 == 0 ? "node-a" : "node-b";
            Thread client = new Thread(() -> {
                while (running.get()) {
                    String ledger = LEDGERS.get(ThreadLocalRandom.current().nextInt(LEDGERS.size()));
                    long amount = 1 + ThreadLocalRandom.current().nextInt(100);
                    String ref = "p-" + counter.incrementAndGet();
                    check.sent(ledger, ref);
                    try {
                        cluster.node(through).commandGateway().sendAndWait(new Post(ledger, amount, ref),
                                Duration.ofSeconds(5));
                        check.acknowledged(ledger, ref, amount);
                    } catch (CommandNotExecutedException e) {
                        notExecuted.add(ref);
                        failures.put(ref, e);
                    } catch (CommandBusClosedException e) {
                        failures.put(ref, e);
                    } catch (RuntimeException e) {
                        failures.put(ref, e);
                    }
                }
            }, "restart-load-" + t);
            client.start();
            clients.add(client);
        }
        Thread.sleep(1_500);
        stop.accept("node-c");
        cluster.start("node-c");
        Thread.sleep(4_000);
        running.set(false);
        for (Thread client : clients) {
            client.join(60_000);
        }
        cluster.awaitConvergence(Duration.ofSeconds(60));

        LedgerCheck.Summary summary = check.verify(store, cluster.node("node-a").serializer(), LEDGERS);
        Set<String> stored = new HashSet<>();
        for (Posted posted : summary.postings()) {
            stored.add(posted.ref());
        }
        Set<String> notExecutedButStored = new HashSet<>(notExecuted);
        notExecutedButStored.retainAll(stored);
        System.out.println("Quick restart: " + counter.get() + " postings sent, " + check.acknowledgedCount()
                + " acknowledged, " + stored.size() + " stored, " + failures.size() + " failed ("
                + notExecuted.size() + " 'not executed'): "
                + failures.values().stream().map(e -> e.getClass().getSimpleName() + ": " + e.getMessage())
                .limit(5).toList());
        assertThat(notExecutedButStored).as("postings reported 'not executed' that are stored").isEmpty();
        assertThat(check.acknowledgedCount()).as("postings acknowledged").isPositive();
    }
}
