package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.Ledger;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes whose discovery settings miss each other (TCPPING port ranges that do not overlap): with a start gate
 * they refuse to start, naming what they tried; without one they each start as a cluster of one and say so.
 */
class DiscoveryGateTest {

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final List<Gyre> started = new ArrayList<>();
    private final String cluster = "gate-" + UUID.randomUUID().toString().substring(0, 8);
    private final int base = TestCluster.freeBasePort();

    @AfterEach
    void stop() {
        started.forEach(Gyre::close);
    }

    private JGroupsCommandBus.Builder bus(String node, int firstPort) {
        return JGroupsCommandBus.builder().cluster(cluster).nodeName(node).bindPort(firstPort, 3)
                .startTimeout(Duration.ofSeconds(2));
    }

    private Gyre start(JGroupsCommandBus.Builder bus, String node) {
        Gyre gyre = Gyre.builder().name(node).sharedEventStore(store).aggregate(Ledger.class)
                .commandBus(bus.build()).start();
        started.add(gyre);
        return gyre;
    }

    @Test
    void with_min_members_a_node_that_finds_too_few_refuses_to_start_naming_its_discovery_settings() {
        start(bus("node-x", base), "node-x");
        assertThatThrownBy(() -> start(bus("node-y", base + 6).minMembers(2), "node-y"))
                .isInstanceOf(ClusterJoinException.class)
                .hasMessageContaining("fewer than minMembers 2")
                .hasMessageContaining("ports " + (base + 6) + " to " + (base + 9))
                .hasMessageContaining("127.0.0.1");
    }

    @Test
    void without_the_gate_a_node_whose_initial_hosts_stay_unreached_starts_and_warns() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            start(bus("node-x", base).minMembers(1).initialHosts(List.of(
                    new java.net.InetSocketAddress("127.0.0.1", base),
                    new java.net.InetSocketAddress("127.0.0.1", base + 100))), "node-x");
        } finally {
            System.setErr(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("sees 1 member(s) [node-x]")
                .contains("none on the initial hosts [/127.0.0.1:" + (base + 100) + "]");
    }
}
