package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import io.gyre.routing.testmodel.LedgerMessages.Post;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.jgroups.protocols.TCP;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster secured with mutual TLS: only members with a certificate the others trust join it, and its traffic
 * carries no command in the clear. A node on a non-loopback address without TLS refuses to start unless told.
 */
class SecureClusterTest {

    /** One set of stores for the class: keytool takes about a second a call. */
    @TempDir
    static Path folder;
    private static TestCertificates certificates;

    private final InMemoryEventStore store = new InMemoryEventStore();
    private final List<Gyre> nodes = new ArrayList<>();
    private final List<JGroupsCommandBus> buses = new ArrayList<>();
    private final String cluster = "secure-" + UUID.randomUUID().toString().substring(0, 8);
    private final int base = TestCluster.freeBasePort();

    @AfterEach
    void stop() {
        Collections.reverse(nodes);
        nodes.forEach(Gyre::close);
    }

    private static TestCertificates certificates() {
        if (certificates == null) {
            certificates = new TestCertificates(folder);
        }
        return certificates;
    }

    /** A node that is expected not to find the others gives up joining after two tries instead of ten. */
    private static void quickToGiveUp(JGroupsCommandBus.Builder bus) {
        bus.customizeStack(stack -> stack.stream().filter(p -> p instanceof org.jgroups.protocols.pbcast.GMS)
                .forEach(gms -> ((org.jgroups.protocols.pbcast.GMS) gms).setMaxJoinAttempts(2)));
    }

    private Gyre start(String node, Consumer<JGroupsCommandBus.Builder> customize) {
        JGroupsCommandBus.Builder bus = JGroupsCommandBus.builder().cluster(cluster).nodeName(node)
                .bindPort(base, 6).startTimeout(Duration.ofSeconds(3));
        customize.accept(bus);
        JGroupsCommandBus built = bus.build();
        Gyre gyre = Gyre.builder().name(node).sharedEventStore(store).aggregate(Ledger.class)
                .commandBus(built).start();
        nodes.add(gyre);
        buses.add(built);
        return gyre;
    }

    @Test
    void members_with_trusted_certificates_form_one_cluster() throws Exception {
        start("node-a", bus -> bus.tls(tls(certificates(), "node-a")));
        Gyre b = start("node-b", bus -> bus.tls(tls(certificates(), "node-b")).minMembers(2));
        b.commandGateway().sendAndWait(new OpenLedger("ledger-1"));
        assertThat(nodes.get(0).commandGateway().<Long>sendAndWait(new Post("ledger-1", 3, "x"))).isEqualTo(3);
    }

    @Test
    void a_node_without_credentials_or_with_untrusted_ones_cannot_join_a_secured_cluster() throws Exception {
        start("node-a", bus -> bus.tls(tls(certificates(), "node-a")));
        assertThatThrownBy(() -> start("plain", bus -> quickToGiveUp(bus.minMembers(2))))
                .isInstanceOf(ClusterJoinException.class).hasMessageContaining("fewer than minMembers 2");
        ClusterTls untrusted = ClusterTls.of(certificates().keyStore("rogue"), TestCertificates.PASSWORD,
                certificates().trustStore("node-a", "node-b", "rogue"), TestCertificates.PASSWORD);
        assertThatThrownBy(() -> start("rogue", bus -> quickToGiveUp(bus.minMembers(2).tls(untrusted))))
                .isInstanceOf(ClusterJoinException.class);
        assertThat(nodes.get(0).commandGateway().<String>sendAndWait(new OpenLedger("still-alone")))
                .isEqualTo("still-alone");
    }

    @Test
    void a_secured_node_cannot_join_an_insecure_cluster() throws Exception {
        start("plain", bus -> { });
        assertThatThrownBy(() -> start("node-a", bus -> quickToGiveUp(bus.minMembers(2)
                .tls(tls(certificates(), "node-a")))))
                .isInstanceOf(ClusterJoinException.class);
    }

    @Test
    void traffic_between_secured_members_carries_no_command_in_the_clear() throws Exception {
        String marker = "PLAINTEXT-MARKER-" + UUID.randomUUID();
        assertThat(capturedBetweenTwoMembers(marker, bus -> bus.tls(tls(certificates(), "node-a"))))
                .as("the capture holds traffic").hasSizeGreaterThan(1000)
                .satisfies(bytes -> assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).doesNotContain(marker));
    }

    @Test
    void the_capture_does_see_commands_in_the_clear_without_tls() throws Exception {
        String marker = "PLAINTEXT-MARKER-" + UUID.randomUUID();
        assertThat(new String(capturedBetweenTwoMembers(marker, bus -> { }), StandardCharsets.ISO_8859_1))
                .as("the capture works: without TLS the command is readable").contains(marker);
    }

    /**
     * Starts two members, the first advertising a relay's port as its address, so that every connection to it
     * passes through the relay, which keeps a copy of the bytes; sends commands carrying the marker across.
     */
    private byte[] capturedBetweenTwoMembers(String marker, Consumer<JGroupsCommandBus.Builder> security)
            throws Exception {
        try (ServerSocket relay = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            Thread acceptor = new Thread(() -> relay(relay, base, captured), "relay");
            acceptor.setDaemon(true);
            acceptor.start();
            Gyre a = start("node-a", bus -> {
                security.accept(bus);
                bus.bindPort(base, 0).customizeStack(stack -> ((TCP) stack.get(0))
                        .setExternalAddr(InetAddress.getLoopbackAddress()).setExternalPort(relay.getLocalPort()));
            });
            Gyre b = start("node-b", bus -> {
                security.accept(bus);
                bus.bindPort(base + 1, 0).initialHosts(List.of(new java.net.InetSocketAddress("127.0.0.1",
                        relay.getLocalPort()))).minMembers(2);
            });
            JGroupsCommandBus busB = buses.get(buses.size() - 1);
            String ledger = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                    .filter(id -> busB.ring().owner(id, "Ledger").id().equals("node-a")).findFirst().orElseThrow();
            b.commandGateway().sendAndWait(new OpenLedger(ledger));
            for (int i = 0; i < 10; i++) {
                b.commandGateway().sendAndWait(new Post(ledger, 1, marker + "-" + i));
            }
            synchronized (captured) {
                return captured.toByteArray();
            }
        }
    }

    private static void relay(ServerSocket relay, int target, ByteArrayOutputStream captured) {
        while (!relay.isClosed()) {
            try {
                Socket client = relay.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                pump(client.getInputStream(), server.getOutputStream(), captured);
                pump(server.getInputStream(), client.getOutputStream(), captured);
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void pump(InputStream from, OutputStream to, ByteArrayOutputStream captured) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try {
                for (int read; (read = from.read(buffer)) > 0; ) {
                    synchronized (captured) {
                        captured.write(buffer, 0, read);
                    }
                    to.write(buffer, 0, read);
                    to.flush();
                }
            } catch (IOException e) {
                // The connection closed.
            }
        }, "relay-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private ClusterTls tls(TestCertificates certificates, String node) {
        return ClusterTls.of(certificates.keyStore(node), TestCertificates.PASSWORD,
                certificates.trustStore("node-a", "node-b"), TestCertificates.PASSWORD);
    }

    @Test
    void a_node_on_a_non_loopback_address_without_tls_refuses_to_start_unless_told_and_then_warns()
            throws Exception {
        InetAddress outside = nonLoopbackAddress();
        assertThatThrownBy(() -> JGroupsCommandBus.builder().cluster(cluster).bindAddress(outside).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(outside.getHostAddress())
                .hasMessageContaining("insecureWithoutTls()");
        PrintStream original = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            start("exposed", bus -> bus.bindAddress(outside).initialHosts(List.of(new java.net.InetSocketAddress(
                    outside, base))).insecureWithoutTls());
        } finally {
            System.setErr(original);
        }
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("WITHOUT TLS (insecureWithoutTls)");
    }

    private static InetAddress nonLoopbackAddress() throws IOException {
        for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (network.isUp() && !network.isLoopback()) {
                for (InetAddress address : Collections.list(network.getInetAddresses())) {
                    if (address instanceof Inet4Address) {
                        return address;
                    }
                }
            }
        }
        throw new IllegalStateException("This machine has no non-loopback IPv4 address to test the check with");
    }
}
