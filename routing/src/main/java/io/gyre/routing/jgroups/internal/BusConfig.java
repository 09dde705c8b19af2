package io.gyre.routing.jgroups.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jgroups.stack.Protocol;
import org.jspecify.annotations.Nullable;

/**
 * The settings of one distributed command bus, validated by its builder and frozen when built. Internal: not part
 * of Gyre's API; users configure it through {@code JGroupsCommandBus.builder()}.
 *
 * @param cluster              the cluster name
 * @param nodeName             this member's id on the ring, or null for a generated one
 * @param weight               its share of keys
 * @param bindAddress          the address TCP listens on
 * @param bindPort             the first port TCP tries
 * @param portRange            how many ports above it TCP may try, and TCPPING probes per initial host
 * @param initialHosts         the members to contact first; empty means this member's own address and port
 * @param stackFile            a JGroups XML stack replacing the default, or null
 * @param suspectAfter         how long a silent member may stay silent before it is suspected
 * @param leaveTimeout         how long a graceful leave waits for the commands in progress
 * @param maxMessageBytes      the largest command or reply on the wire
 * @param maxInFlightPerMember commands sent to one member and not answered at once
 * @param minMembers           the fewest ring members before the node starts taking commands
 * @param startTimeout         how long starting waits for them
 * @param tls                  mutual TLS for the cluster's connections, or null
 * @param insecureWithoutTls   the user accepted running without TLS on a non-loopback address
 * @param maxMemberWeight      the largest weight an advertisement may claim
 * @param stackCustomizer      edits the default stack before the channel is created
 */
public record BusConfig(String cluster, @Nullable String nodeName, int weight, InetAddress bindAddress, int bindPort,
                        int portRange, List<InetSocketAddress> initialHosts, @Nullable Path stackFile,
                        Duration suspectAfter, Duration leaveTimeout, int maxMessageBytes, int maxInFlightPerMember,
                        int minMembers, Duration startTimeout, io.gyre.routing.jgroups.@Nullable ClusterTls tls,
                        boolean insecureWithoutTls, int maxMemberWeight, Consumer<List<Protocol>> stackCustomizer) {

    /** Checks the parts that have no setter to check them and copies the hosts. */
    public BusConfig {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(bindAddress, "bindAddress");
        initialHosts = List.copyOf(initialHosts);
        Objects.requireNonNull(suspectAfter, "suspectAfter");
        Objects.requireNonNull(leaveTimeout, "leaveTimeout");
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(stackCustomizer, "stackCustomizer");
    }
}
