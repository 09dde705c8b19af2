package io.gyre.routing.jgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.stack.IpAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long a channel's stack takes to exclude a silent member is read from the stack itself, whoever built it: the
 * default stack from {@code suspectAfter}, or a user's stack file with failure detection of its own.
 */
class ClusterChannelFailureDetectionTest {

    private static final ClusterChannel.Listener NOBODY = new ClusterChannel.Listener() {
        @Override
        public void onFrame(Address from, byte[] buffer, int offset, int length) {
        }

        @Override
        public void onView(View view) {
        }
    };

    @TempDir
    Path dir;

    @Test
    void the_default_stack_suspects_after_the_builders_setting_and_verifies_for_half_a_second() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ClusterChannel channel = ClusterChannel.of(DefaultStack.protocols(loopback, 7800, 0,
                List.of(new IpAddress(loopback, 7800)), 2_000, false), "a", NOBODY)) {
            assertThat(channel.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(2));
            assertThat(channel.suspicionCheck()).isEqualTo(Duration.ofMillis(500));
        }
    }

    @Test
    void a_stack_file_with_failure_detection_of_its_own_is_read_as_it_is() throws Exception {
        Path stack = stackFile("<FD_ALL3 timeout=\"40000\" interval=\"8000\"/><VERIFY_SUSPECT2 timeout=\"1500\"/>");
        try (ClusterChannel channel = ClusterChannel.of(stack, "a", NOBODY)) {
            assertThat(channel.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(40));
            assertThat(channel.suspicionCheck()).isEqualTo(Duration.ofMillis(1500));
        }
    }

    @Test
    void a_stack_file_without_heartbeats_has_no_heartbeat_timeout() throws Exception {
        try (ClusterChannel channel = ClusterChannel.of(stackFile(""), "a", NOBODY)) {
            assertThat(channel.heartbeatTimeout()).isNull();
            assertThat(channel.suspicionCheck()).isEqualTo(Duration.ZERO);
        }
    }

    private Path stackFile(String failureDetection) throws Exception {
        Path file = dir.resolve("stack.xml");
        Files.writeString(file, """
                <config xmlns="urn:org:jgroups">
                  <TCP bind_addr="127.0.0.1" bind_port="7800"/>
                  <LOCAL_PING/>
                  <MERGE3/>
                  %s
                  <pbcast.NAKACK2/>
                  <UNICAST3/>
                  <pbcast.STABLE/>
                  <pbcast.GMS/>
                </config>
                """.formatted(failureDetection));
        return file;
    }
}
