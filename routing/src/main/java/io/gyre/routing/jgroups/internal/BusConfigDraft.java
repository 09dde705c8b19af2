package io.gyre.routing.jgroups.internal;

import io.gyre.routing.Member;
import io.gyre.routing.jgroups.ClusterTls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.jgroups.stack.Protocol;
import org.jspecify.annotations.Nullable;

/**
 * The settings of a distributed command bus while they are being chosen: the defaults, a check of each value as it
 * is set (the message names the value and the allowed range), and {@link #toConfig()}, which refuses settings that
 * contradict each other and freezes the rest into a {@link BusConfig}. The public builder of
 * {@code JGroupsCommandBus} is a thin façade over it; its Javadoc is the user's contract for each setting.
 *
 * <p>Not thread-safe, like any builder. Internal: not part of Gyre's API.
 */
public final class BusConfigDraft {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    private String cluster = "gyre";
    private @Nullable String nodeName;
    private int weight = 1;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int bindPort = 7800;
    private int portRange = 20;
    private List<InetSocketAddress> initialHosts = List.of();
    private @Nullable Path stackFile;
    private Duration suspectAfter = Duration.ofSeconds(3);
    private int maxInFlightPerMember = 1024;
    private Duration leaveTimeout = Duration.ofSeconds(30);
    private int minMembers = 1;
    private @Nullable ClusterTls tls;
    private boolean insecureWithoutTls;
    private boolean bindAddressSet;
    private int maxMemberWeight = 10;
    private Duration startTimeout = Duration.ofSeconds(60);
    private int maxMessageBytes = 8 * 1024 * 1024;
    private Consumer<List<Protocol>> stackCustomizer = protocols -> { };

    /** @param cluster the cluster name: letters, digits, {@code . _ -}, at most 100 */
    public void cluster(String cluster) {
        this.cluster = checkName("cluster", cluster);
    }

    /** @param nodeName this node's member id on the ring: letters, digits, {@code . _ -}, at most 100 */
    public void nodeName(String nodeName) {
        this.nodeName = checkName("nodeName", nodeName);
    }

    /** @param weight this node's share of the keys, {@link Member#MIN_WEIGHT} to {@link Member#MAX_WEIGHT} */
    public void weight(int weight) {
        if (weight < Member.MIN_WEIGHT || weight > Member.MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be between " + Member.MIN_WEIGHT + " and "
                    + Member.MAX_WEIGHT + ", but was " + weight);
        }
        this.weight = weight;
    }

    /** @param bindAddress the address to listen on; remembered as set, which a stack file contradicts */
    public void bindAddress(InetAddress bindAddress) {
        this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
        this.bindAddressSet = true;
    }

    /**
     * @param bindPort  the first port to try, 1 to 65535
     * @param portRange how many ports above it to try, 0 to 1000, ending below 65536
     */
    public void bindPort(int bindPort, int portRange) {
        if (bindPort < 1 || bindPort > 65_535) {
            throw new IllegalArgumentException("bindPort must be between 1 and 65535, but was " + bindPort);
        }
        if (portRange < 0 || portRange > 1000 || bindPort + portRange > 65_535) {
            throw new IllegalArgumentException("portRange must be between 0 and 1000 and end below 65536, but "
                    + "was " + portRange);
        }
        this.bindPort = bindPort;
        this.portRange = portRange;
    }

    /** @param hosts the nodes to contact first; copied */
    public void initialHosts(List<InetSocketAddress> hosts) {
        this.initialHosts = List.copyOf(hosts);
    }

    /** @param stackFile a JGroups XML stack to use instead of the default */
    public void stackFile(Path stackFile) {
        this.stackFile = Objects.requireNonNull(stackFile, "stackFile");
    }

    /** @param suspectAfter how long a member may stay silent before it is suspected, 300 ms to 5 minutes */
    public void suspectAfter(Duration suspectAfter) {
        this.suspectAfter = checkDuration("suspectAfter", suspectAfter, Duration.ofMillis(300),
                Duration.ofMinutes(5));
    }

    /** @param maxInFlightPerMember commands sent to one member and not answered at once, 1 to 100,000 */
    public void maxInFlightPerMember(int maxInFlightPerMember) {
        if (maxInFlightPerMember < 1 || maxInFlightPerMember > 100_000) {
            throw new IllegalArgumentException("maxInFlightPerMember must be between 1 and 100000, but was "
                    + maxInFlightPerMember);
        }
        this.maxInFlightPerMember = maxInFlightPerMember;
    }

    /** @param tls mutual TLS for the cluster's connections */
    public void tls(ClusterTls tls) {
        this.tls = Objects.requireNonNull(tls, "tls");
    }

    /** The user accepts running on a non-loopback address without TLS. */
    public void insecureWithoutTls() {
        this.insecureWithoutTls = true;
    }

    /** @param maxMemberWeight the largest weight an advertisement may claim, like a weight */
    public void maxMemberWeight(int maxMemberWeight) {
        if (maxMemberWeight < Member.MIN_WEIGHT || maxMemberWeight > Member.MAX_WEIGHT) {
            throw new IllegalArgumentException("maxMemberWeight must be between " + Member.MIN_WEIGHT + " and "
                    + Member.MAX_WEIGHT + ", but was " + maxMemberWeight);
        }
        this.maxMemberWeight = maxMemberWeight;
    }

    /** @param minMembers the fewest ring members before the node takes commands, 1 to 1000 */
    public void minMembers(int minMembers) {
        if (minMembers < 1 || minMembers > 1000) {
            throw new IllegalArgumentException("minMembers must be between 1 and 1000, but was " + minMembers);
        }
        this.minMembers = minMembers;
    }

    /** @param startTimeout how long starting waits for the fewest members, 1 s to 1 hour */
    public void startTimeout(Duration startTimeout) {
        this.startTimeout = checkDuration("startTimeout", startTimeout, Duration.ofSeconds(1), Duration.ofHours(1));
    }

    /** @param leaveTimeout how long a graceful leave waits for the commands in progress, 0 to 1 hour */
    public void leaveTimeout(Duration leaveTimeout) {
        this.leaveTimeout = checkDuration("leaveTimeout", leaveTimeout, Duration.ZERO, Duration.ofHours(1));
    }

    /** @param maxMessageBytes the largest command or reply on the wire, 1 KiB to 512 MiB */
    public void maxMessageBytes(int maxMessageBytes) {
        if (maxMessageBytes < 1024 || maxMessageBytes > 512 * 1024 * 1024) {
            throw new IllegalArgumentException("maxMessageBytes must be between 1024 and 536870912, but was "
                    + maxMessageBytes);
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    /** @param customizer edits the default protocols, transport first, before the channel is created */
    public void customizeStack(Consumer<List<Protocol>> customizer) {
        this.stackCustomizer = Objects.requireNonNull(customizer, "customizer");
    }

    /**
     * @return the settings, frozen; this draft can go on changing without affecting them
     * @throws IllegalStateException when settings contradict each other (a stack file together with a bind address,
     *                               initial hosts or TLS), when the weight is above the cluster's maximum, or when
     *                               the node would listen on a non-loopback address without TLS and without
     *                               {@link #insecureWithoutTls()}
     */
    public BusConfig toConfig() {
        if (stackFile != null && (bindAddressSet || !initialHosts.isEmpty() || tls != null)) {
            throw new IllegalStateException("A stack file (" + stackFile + ") sets the transport, discovery and "
                    + "TLS itself: do not combine it with bindAddress, initialHosts or tls");
        }
        if (weight > maxMemberWeight) {
            throw new IllegalStateException("weight " + weight + " is above maxMemberWeight " + maxMemberWeight
                    + "; raise maxMemberWeight on every node of the cluster");
        }
        if (stackFile == null && tls == null && !insecureWithoutTls && !bindAddress.isLoopbackAddress()) {
            throw new IllegalStateException("Member " + (nodeName == null ? "" : nodeName + " ") + "would listen "
                    + "on " + bindAddress.getHostAddress() + " without TLS: anyone who reaches that address could "
                    + "join the cluster and have commands run. Set tls(ClusterTls.of(...)), or accept the risk "
                    + "with insecureWithoutTls()");
        }
        return new BusConfig(cluster, nodeName, weight, bindAddress, bindPort, portRange, initialHosts, stackFile,
                suspectAfter, leaveTimeout, maxMessageBytes, maxInFlightPerMember, minMembers, startTimeout, tls,
                insecureWithoutTls, maxMemberWeight, stackCustomizer);
    }

    private static String checkName(String what, String value) {
        Objects.requireNonNull(value, what);
        if (!NAME.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " must be 1 to 100 letters, digits or . _ -, but was '"
                    + value + "'");
        }
        return value;
    }

    private static Duration checkDuration(String what, Duration value, Duration min, Duration max) {
        Objects.requireNonNull(value, what);
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(what + " must be between " + min + " and " + max + ", but was "
                    + value);
        }
        return value;
    }
}
