package io.gyre.examples.chaos;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.routing.jgroups.JGroupsCommandBus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Gyre nodes with real JGroups command buses in one JVM, on 127.0.0.1, in a cluster of their own (a random name and a
 * free block of ports), sharing one event store: the routing module's test cluster, for the examples module's tests
 * that need PostgreSQL and a cluster together.
 */
final class ReadSideReviewCluster implements AutoCloseable {

    private static final int PORT_RANGE = 12;

    private final EventStore store;
    private final String name = "review-" + UUID.randomUUID().toString().substring(0, 8);
    private final int basePort = freeBasePort();
    private final Map<String, Gyre> nodes = new LinkedHashMap<>();
    private final Map<String, JGroupsCommandBus> buses = new LinkedHashMap<>();

    ReadSideReviewCluster(EventStore store) {
        this.store = store;
    }

    synchronized Gyre start(String node, Consumer<Gyre.Builder> configure) {
        JGroupsCommandBus bus = JGroupsCommandBus.builder().cluster(name).nodeName(node)
                .bindPort(basePort, PORT_RANGE).suspectAfter(Duration.ofSeconds(2)).build();
        Gyre.Builder builder = Gyre.builder().name(node).sharedEventStore(store).commandBus(bus)
                .commandTimeout(Duration.ofSeconds(20));
        configure.accept(builder);
        Gyre gyre = builder.start();
        nodes.put(node, gyre);
        buses.put(node, bus);
        return gyre;
    }

    synchronized Gyre node(String node) {
        return nodes.get(node);
    }

    synchronized JGroupsCommandBus bus(String node) {
        return buses.get(node);
    }

    synchronized List<String> running() {
        return new ArrayList<>(nodes.keySet());
    }

    /** Leaves gracefully. */
    void leave(String node) {
        Gyre gyre;
        synchronized (this) {
            gyre = nodes.remove(node);
            buses.remove(node);
        }
        gyre.close();
    }

    Gyre anyNode() {
        List<String> names = running();
        return node(names.get(ThreadLocalRandom.current().nextInt(names.size())));
    }

    /** Waits until every running node routes with a ring of exactly the running nodes. */
    void awaitConvergence(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> expected = running().stream().sorted().toList();
            boolean converged = expected.stream().allMatch(node -> bus(node) != null
                    && bus(node).members().stream().sorted().toList().equals(expected));
            if (converged) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("rings did not converge on " + expected);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        for (String node : running()) {
            try {
                node(node).close();
            } catch (RuntimeException e) {
                // Closing the rest matters more.
            }
        }
        nodes.clear();
        buses.clear();
    }

    private static int freeBasePort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = 10_000 + ThreadLocalRandom.current().nextInt(20_000);
            if (free(base, PORT_RANGE) && free(base + 100, PORT_RANGE + 3)) {
                return base;
            }
        }
        throw new IllegalStateException("no free block of ports on 127.0.0.1");
    }

    private static boolean free(int from, int range) {
        for (int port = from; port <= from + range; port++) {
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
