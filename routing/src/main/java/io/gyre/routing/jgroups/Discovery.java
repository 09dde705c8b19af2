package io.gyre.routing.jgroups;

import io.gyre.routing.jgroups.internal.BusConfig;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.DefaultStack;
import io.gyre.routing.jgroups.internal.Membership;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jgroups.Address;
import org.jgroups.PhysicalAddress;
import org.jgroups.View;
import org.jgroups.stack.IpAddress;
import org.jgroups.stack.Protocol;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a member finds the others and says when it does not: the protocol stack it connects with (TLS and frame
 * bounds included), the waits at start (for every advertisement, for {@code minMembers}), and the warnings while
 * the ring is smaller than expected or an initial host stays unreached. Logs under the bus's name, which is the
 * one users configure.
 */
final class Discovery {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    private final BusConfig config;
    private final String selfId;

    Discovery(BusConfig config, String selfId) {
        this.config = config;
        this.selfId = selfId;
    }

    /** @return the default protocol stack for the configured address, ports, hosts, TLS and message limit */
    List<Protocol> defaultProtocols() {
        List<PhysicalAddress> initial = new ArrayList<>();
        for (InetSocketAddress host : config.initialHosts().isEmpty()
                ? List.of(new InetSocketAddress(config.bindAddress(), config.bindPort())) : config.initialHosts()) {
            initial.add(new IpAddress(host.getAddress(), host.getPort()));
        }
        List<Protocol> protocols = new ArrayList<>(DefaultStack.protocols(config.bindAddress(), config.bindPort(),
                config.portRange(), initial, config.suspectAfter().toMillis(), false, transportTls(),
                config.maxMessageBytes() + 64 * 1024));
        config.stackCustomizer().accept(protocols);
        return protocols;
    }

    /** @return JGroups' TLS settings from this bus's, or null without TLS: mutual authentication required */
    private org.jgroups.util.@Nullable TLS transportTls() {
        ClusterTls tls = config.tls();
        if (tls == null) {
            return null;
        }
        return new org.jgroups.util.TLS().enabled(true)
                .setKeystorePath(tls.keyStore().toString()).setKeystorePassword(new String(tls.keyStorePassword()))
                .setKeystoreType(tls.keyStoreType())
                .setTruststorePath(tls.trustStore().toString())
                .setTruststorePassword(new String(tls.trustStorePassword())).setTruststoreType(tls.trustStoreType())
                .setClientAuth(org.jgroups.util.TLSClientAuth.NEED);
    }

    /** @return the discovery settings this member uses, for messages */
    String settings() {
        if (config.stackFile() != null) {
            return "the stack file " + config.stackFile();
        }
        int first = config.bindPort();
        return "bind address " + config.bindAddress().getHostAddress() + ", ports " + first + " to "
                + (first + config.portRange()) + ", initial hosts " + (config.initialHosts().isEmpty()
                ? "[this member's own address and ports]" : config.initialHosts().toString());
    }

    /**
     * @param cause why joining failed
     * @return the non-transient failure to start with, naming what was tried
     */
    ClusterJoinException joinFailed(Exception cause) {
        return new ClusterJoinException("Member " + selfId + " could not join cluster '" + config.cluster()
                + "' with " + settings(), cause);
    }

    /** Warns, at every start, that a member listens on a non-loopback address without TLS because it was told to. */
    void warnIfInsecure() {
        if (config.insecureWithoutTls() && config.tls() == null && !config.bindAddress().isLoopbackAddress()) {
            log.warn("Member {} listens on {} WITHOUT TLS (insecureWithoutTls): anyone who reaches that address can "
                    + "join cluster '{}', be given aggregates to own and have commands run", selfId,
                    config.bindAddress().getHostAddress(), config.cluster());
        }
    }

    /**
     * Waits (up to 10 s) until every member of the view has advertised itself: until then this member's ring
     * holds too few members, and it would run commands for keys the others still own.
     */
    void awaitAdvertisements(Membership membership, ClusterChannel channel, Supplier<List<String>> members) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!membership.allAdvertised() && System.nanoTime() < deadline) {
            if (!pause(5)) {
                return;
            }
        }
        if (!membership.allAdvertised()) {
            log.warn("Member {}: not every member of view {} advertised itself within 10 s; starting with ring {}",
                    selfId, channel.view(), members.get());
        }
    }

    /**
     * The start gate: waits, up to the start timeout, for a ring of at least {@code minMembers}. Two nodes whose
     * discovery settings miss each other would otherwise each run as a cluster of one, each owning every aggregate.
     *
     * @return null when the ring is large enough, else the failure to start with
     */
    @Nullable ClusterJoinException awaitMinMembers(Supplier<List<String>> members) {
        if (config.minMembers() <= 1) {
            return null;
        }
        long deadline = System.nanoTime() + config.startTimeout().toNanos();
        while (members.get().size() < config.minMembers() && System.nanoTime() - deadline < 0) {
            if (!pause(20)) {
                break;
            }
        }
        List<String> found = members.get();
        if (found.size() >= config.minMembers()) {
            return null;
        }
        return new ClusterJoinException("Member " + selfId + " found " + found.size() + " member(s) " + found
                + " of cluster '" + config.cluster() + "' within " + config.startTimeout() + ", fewer than "
                + "minMembers " + config.minMembers() + "; discovery used " + settings() + ". Check that the other "
                + "nodes are up and that their discovery settings reach each other", null);
    }

    /**
     * Warns, at start and every 30 s, while the ring is smaller than {@code minMembers} or a configured initial host
     * has no member of the view on it: two nodes whose discovery misses each other each run as a cluster of one,
     * each owning every aggregate, and nothing else would say so.
     */
    void warnIfSmall(List<String> members, ClusterChannel channel) {
        if (members.size() < config.minMembers()) {
            log.warn("Member {} sees {} member(s) {} of cluster '{}', fewer than the {} expected (minMembers); "
                    + "discovery uses {}. Members that do not see each other each own every aggregate", selfId,
                    members.size(), members, config.cluster(), config.minMembers(), settings());
        }
        List<InetSocketAddress> unreached = unreachedInitialHosts(channel);
        if (!unreached.isEmpty()) {
            log.warn("Member {} sees {} member(s) {} of cluster '{}' and none on the initial hosts {} (each with "
                    + "ports up to {} above it); discovery uses {}. If nodes run there, they do not see this one and "
                    + "each owns every aggregate", selfId, members.size(), members, config.cluster(), unreached,
                    config.portRange(), settings());
        }
    }

    /** @return the configured initial hosts on whose port range no member of the current view is */
    private List<InetSocketAddress> unreachedInitialHosts(ClusterChannel channel) {
        if (config.stackFile() != null || config.initialHosts().isEmpty()) {
            return List.of();
        }
        View view = channel.view();
        List<InetSocketAddress> unreached = new ArrayList<>();
        for (InetSocketAddress host : config.initialHosts()) {
            boolean reached = false;
            for (Address member : view == null ? List.<Address>of() : view.getMembers()) {
                if (channel.physicalAddress(member) instanceof IpAddress physical
                        && physical.getIpAddress().equals(host.getAddress())
                        && physical.getPort() >= host.getPort()
                        && physical.getPort() <= host.getPort() + config.portRange()) {
                    reached = true;
                    break;
                }
            }
            if (!reached) {
                unreached.add(host);
            }
        }
        return unreached;
    }

    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
