package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.Ledger;
import io.gyre.routing.testmodel.LedgerMessages.OpenLedger;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jgroups.Version;
import org.jgroups.blocks.cs.Connection;
import org.jgroups.stack.IpAddress;
import org.junit.jupiter.api.Test;

/**
 * A peer that claims a 2 GiB frame gets its connection closed before anything is allocated for it: a member with a
 * 48 MiB heap survives the claim and keeps serving.
 */
class OversizedFrameTest {

    @Test
    void a_frame_claiming_two_gibibytes_is_refused_without_allocating_it() throws Exception {
        String cluster = "frame-" + UUID.randomUUID().toString().substring(0, 8);
        int port = TestCluster.freeBasePort();
        Process member = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx48m", "-Djava.net.preferIPv4Stack=true", "-cp", System.getProperty("java.class.path"),
                SmallHeapMember.class.getName(), cluster, Integer.toString(port)).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(member.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                }
            } catch (java.io.IOException e) {
                // The process ended.
            }
        });
        reader.start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!text(output).contains("READY")) {
                assertThat(member.isAlive()).as("the member started: " + text(output)).isTrue();
                assertThat(System.nanoTime() < deadline).as("the member started in time: " + text(output)).isTrue();
                Thread.sleep(50);
            }

            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                socket.setSoTimeout(10_000);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                IpAddress self = new IpAddress("127.0.0.1", port + 50);
                out.write(Connection.cookie);
                out.writeShort(Version.version);
                out.writeShort(self.serializedSize());
                self.writeTo(out);
                out.writeInt(Integer.MAX_VALUE);
                out.write(new byte[4096]);
                out.flush();
                assertThat(socket.getInputStream().read()).as("the member closed the connection").isEqualTo(-1);
            } catch (java.net.SocketException e) {
                // Reset by the member: closed too.
            }

            // The member still serves: a new member joins it and runs a command there.
            JGroupsCommandBus bus = JGroupsCommandBus.builder().cluster(cluster).nodeName("visitor")
                    .bindPort(port + 1, 0).initialHosts(List.of(new java.net.InetSocketAddress("127.0.0.1", port)))
                    .minMembers(2).build();
            try (Gyre visitor = Gyre.builder().name("visitor").eventStore(new InMemoryEventStore())
                    .aggregate(Ledger.class).commandBus(bus).start()) {
                String ledger = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "ledger-" + i)
                        .filter(id -> bus.ring().owner(id, "Ledger").id().equals("small-heap")).findFirst()
                        .orElseThrow();
                assertThat(visitor.commandGateway().<String>sendAndWait(new OpenLedger(ledger))).isEqualTo(ledger);
            }
            assertThat(member.isAlive()).isTrue();
            assertThat(text(output)).doesNotContain("OutOfMemoryError");
        } finally {
            member.getOutputStream().close();
            if (!member.waitFor(20, TimeUnit.SECONDS)) {
                member.destroyForcibly();
            }
            reader.join(5_000);
        }
    }

    private static String text(StringBuilder output) {
        synchronized (output) {
            return output.toString();
        }
    }
}
