package io.gyre.routing.jgroups;

import io.gyre.Gyre;
import io.gyre.eventstore.EventStore;
import io.gyre.routing.testmodel.Ledger;
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
 * Gyre nodes with JGroups command buses in one JVM, on 127.0.0.1, in a cluster of their own: a random name and a
 * free block of ports, so tests never see each other's members. Nodes share one event store.
 */
final class TestCluster implements AutoCloseable {

    private static final int PORT_RANGE = 12;

    private final EventStore store;
    private final String name = "test-" + UUID.randomUUID().toString().substring(0, 8);
    private final int basePort = freeBasePort();
    private final Map<String, Gyre> nodes = new LinkedHashMap<>();
    private final Map<String, JGroupsCommandBus> buses = new LinkedHashMap<>();

    TestCluster(EventStore store) {
        this.store = store;
    }

    Gyre start(String node) {
        return start(node, bus -> { });
    }

    synchronized Gyre start(String node, Consumer<JGroupsCommandBus.Builder> customize) {
        return start(node, customize, gyre -> gyre.aggregate(Ledger.class));
    }

    synchronized Gyre start(String node, Consumer<JGroupsCommandBus.Builder> customize,
                            Consumer<Gyre.Builder> configure) {
        JGroupsCommandBus.Builder builder = JGroupsCommandBus.builder().cluster(name).nodeName(node)
                .bindPort(basePort, PORT_RANGE).suspectAfter(Duration.ofSeconds(2));
        customize.accept(builder);
        JGroupsCommandBus bus = builder.build();
        Gyre.Builder gyreBuilder = Gyre.builder().name(node).sharedEventStore(store).commandBus(bus)
                .commandTimeout(Duration.ofSeconds(20));
        configure.accept(gyreBuilder);
        Gyre gyre = gyreBuilder.start();
        nodes.put(node, gyre);
        buses.put(node, bus);
        return gyre;
    }

    /** @return the cluster's name */
    String name() {
        return name;
    }

    /** @return the first port of the cluster's port range */
    int basePort() {
        return basePort;
    }

    /** @return how many ports above the base port members may bind */
    int portRange() {
        return PORT_RANGE;
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

    /** Leaves gracefully: the node hands over its aggregates, finishes its commands, then disconnects. */
    void leave(String node) {
        Gyre gyre;
        synchronized (this) {
            gyre = nodes.remove(node);
            buses.remove(node);
        }
        gyre.close();
    }

    /** Cuts the node off at once, as a crash would: its connections close without a goodbye. */
    void crash(String node) {
        Gyre gyre;
        JGroupsCommandBus bus;
        synchronized (this) {
            gyre = nodes.remove(node);
            bus = buses.remove(node);
        }
        bus.crashForTest();
        gyre.close();
    }

    /** Waits until every running node routes with a ring of exactly the running nodes. */
    void awaitConvergence(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> expected = running().stream().sorted().toList();
            boolean converged = true;
            for (String node : expected) {
                JGroupsCommandBus bus = bus(node);
                if (bus == null || !bus.members().stream().sorted().toList().equals(expected)) {
                    converged = false;
                    break;
                }
            }
            if (converged) {
                return;
            }
            if (System.nanoTime() > deadline) {
                Map<String, List<String>> views = new LinkedHashMap<>();
                for (String node : expected) {
                    views.put(node, bus(node).members());
                }
                throw new AssertionError("rings did not converge on " + expected + ": " + views);
            }
            Thread.sleep(20);
        }
    }

    /** @return a random running node */
    Gyre anyNode() {
        List<String> names = running();
        return node(names.get(ThreadLocalRandom.current().nextInt(names.size())));
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

    static int freeBasePort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            // Below the kernel's ephemeral range (32768 and up by default), where outgoing connections would take
            // ports of the block between this check and the nodes' binds.
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
