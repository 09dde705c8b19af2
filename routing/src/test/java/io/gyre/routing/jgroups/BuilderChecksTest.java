package io.gyre.routing.jgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder checks each setting as it is set and refuses contradictory ones when building. */
class BuilderChecksTest {

    @Test
    void a_bad_value_is_refused_at_once_with_the_value_and_the_allowed_range() {
        JGroupsCommandBus.Builder builder = JGroupsCommandBus.builder();
        assertThatThrownBy(() -> builder.cluster("no spaces")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cluster must be 1 to 100 letters, digits or . _ -, but was 'no spaces'");
        assertThatThrownBy(() -> builder.nodeName(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("nodeName");
        assertThatThrownBy(() -> builder.weight(0)).hasMessage("weight must be between 1 and 100, but was 0");
        assertThatThrownBy(() -> builder.bindPort(0, 1)).hasMessage("bindPort must be between 1 and 65535, but was 0");
        assertThatThrownBy(() -> builder.bindPort(65_000, 600))
                .hasMessage("portRange must be between 0 and 1000 and end below 65536, but was 600");
        assertThatThrownBy(() -> builder.suspectAfter(Duration.ofMillis(299)))
                .hasMessage("suspectAfter must be between PT0.3S and PT5M, but was PT0.299S");
        assertThatThrownBy(() -> builder.maxInFlightPerMember(0))
                .hasMessage("maxInFlightPerMember must be between 1 and 100000, but was 0");
        assertThatThrownBy(() -> builder.maxMemberWeight(101))
                .hasMessage("maxMemberWeight must be between 1 and 100, but was 101");
        assertThatThrownBy(() -> builder.minMembers(0)).hasMessage("minMembers must be between 1 and 1000, but was 0");
        assertThatThrownBy(() -> builder.startTimeout(Duration.ZERO))
                .hasMessage("startTimeout must be between PT1S and PT1H, but was PT0S");
        assertThatThrownBy(() -> builder.leaveTimeout(Duration.ofSeconds(-1)))
                .hasMessage("leaveTimeout must be between PT0S and PT1H, but was PT-1S");
        assertThatThrownBy(() -> builder.maxMessageBytes(1023))
                .hasMessage("maxMessageBytes must be between 1024 and 536870912, but was 1023");
        assertThatThrownBy(() -> builder.customizeStack(null)).hasMessage("customizer");
        assertThat(builder.build().memberId()).as("refused values changed nothing").isNotBlank();
    }

    @Test
    void contradictory_settings_are_refused_when_building() {
        assertThatThrownBy(() -> JGroupsCommandBus.builder().stackFile(Path.of("stack.xml"))
                .initialHosts(List.of(new InetSocketAddress("127.0.0.1", 7800))).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("A stack file (stack.xml) sets the transport, discovery and TLS itself: do not combine it "
                        + "with bindAddress, initialHosts or tls");
        assertThatThrownBy(() -> JGroupsCommandBus.builder().weight(20).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("weight 20 is above maxMemberWeight 10; raise maxMemberWeight on every node of the "
                        + "cluster");
        assertThat(JGroupsCommandBus.builder().weight(20).maxMemberWeight(20).nodeName("n-1").build().memberId())
                .isEqualTo("n-1");
    }
}
