package io.gyre.routing.jgroups;

import io.gyre.Gyre;
import io.gyre.command.CommandBusClosedException;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerCheck;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Client threads that post to random ledgers through random running nodes, each waiting for its answer,
 * until stopped; every posting is recorded as sent, then as acknowledged or failed (per node it was sent
 * through).
 */
final class Load {

    private final LedgerCheck check;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong counter = new AtomicLong();
    private final Map<String, List<Throwable>> failuresByNode = new ConcurrentHashMap<>();
    private final List<Thread> clients = new ArrayList<>();

    /**
     * @param threads how many clients
     * @param ledgers the ledgers to post to
     * @param nodes   picks the node each posting goes through, with its name
     */
    Load(int threads, List<String> ledgers, Supplier<Map.Entry<String, Gyre>> nodes) {
        this("load", new LedgerCheck(), threads, ledgers, nodes);
    }

    /**
     * @param name    prefix of the postings' references, unique among loads sharing a check
     * @param check   records what was sent and acknowledged
     * @param threads how many clients
     * @param ledgers the ledgers to post to
     * @param nodes   picks the node each posting goes through, with its name
     */
    Load(String name, LedgerCheck check, int threads, List<String> ledgers,
         Supplier<Map.Entry<String, Gyre>> nodes) {
        this.check = check;
        for (int t = 0; t < threads; t++) {
            Thread client = new Thread(() -> {
                while (running.get()) {
                    String ledger = ledgers.get(ThreadLocalRandom.current().nextInt(ledgers.size()));
                    long amount = 1 + ThreadLocalRandom.current().nextInt(100);
                    String ref = name + "-" + counter.incrementAndGet();
                    Map.Entry<String, Gyre> node = nodes.get();
                    check.sent(ledger, ref);
                    try {
                        Ledger.callingThrough(node.getKey(), () -> node.getValue().commandGateway()
                                .sendAndWait(new Post(ledger, amount, ref), Duration.ofSeconds(20)));
                        check.acknowledged(ledger, ref, amount);
                    } catch (CommandBusClosedException e) {
                        if (e.getMessage() == null || !e.getMessage().startsWith("The Gyre node is closed")) {
                            failuresByNode.computeIfAbsent(node.getKey(), key -> new ArrayList<>()).add(e);
                        }
                        // Else the client picked a node just before the test stopped it, and the node sent nothing:
                        // a client behind a load balancer sends again through another node.
                    } catch (RuntimeException e) {
                        failuresByNode.computeIfAbsent(node.getKey(), key -> new ArrayList<>()).add(e);
                    }
                }
            }, "load-client-" + t);
            client.start();
            clients.add(client);
        }
    }

    LedgerCheck check() {
        return check;
    }

    /** @return failures seen by clients, by the node the posting went through */
    Map<String, List<Throwable>> failures() {
        return failuresByNode;
    }

    /** Stops the clients and waits for their last postings. */
    void close() throws InterruptedException {
        running.set(false);
        for (Thread client : clients) {
            client.join(60_000);
        }
    }
}
