package io.gyre.routing.jgroups;

import io.gyre.GyreException;
import io.gyre.command.CommandBus;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandBusContext;
import io.gyre.command.CommandDispatch;
import io.gyre.command.CommandMessage;
import io.gyre.command.LocalCommandBus;
import io.gyre.processing.SegmentOwnership;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.MemberLeftException;
import io.gyre.routing.jgroups.internal.BusConfig;
import io.gyre.routing.jgroups.internal.BusConfigDraft;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.Membership;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.Leaving;
import io.gyre.serialization.Serializer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.stack.Protocol;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A command bus that makes several Gyre nodes one cluster: each aggregate id has exactly one owner on a
 * consistent-hash ring while the membership is stable, commands go to their owner over JGroups, and ownership
 * moves when members join, leave or crash.
 *
 * <pre>{@code
 * Gyre node = Gyre.builder()
 *         .eventStore(JdbcEventStore.postgres(dataSource))
 *         .aggregate(Account.class)
 *         .commandBus(JGroupsCommandBus.builder().cluster("bank").build())
 *         .start();
 * }</pre>
 *
 * <h2>Routing and fencing</h2>
 * Every member advertises its member id, weight and handled command types when it joins and on every view
 * change; every member builds the same {@link HashRing} from the advertisements of the current view. A command
 * whose owner is this member runs on the local bus; others are sent to their owner with this member's ring
 * version. The owner checks that it owns the key in its own current ring, when the command arrives and again
 * right before it runs (after every earlier command of the aggregate), and answers "not owner" otherwise; that
 * is transient, so the gateway re-routes the command once the rings agree. No member runs a command for a key
 * it does not own in its current view. Failures come back with their type and transient nature preserved.
 *
 * <h2>Sending never blocks</h2>
 * Commands and replies for one member go through that member's outbox, sent by a thread of its own; what is ready
 * at once travels in one JGroups message. At most {@link Builder#maxInFlightPerMember(int)} commands to one member
 * are unanswered at once; further ones wait in its outbox, in order, until answers come or their deadline passes.
 * A member that stops reading (paused, overloaded, still joining) therefore holds up only the commands for the
 * aggregates it owns: no caller, worker or JGroups thread ever waits on its socket. Each command carries the time
 * left until its deadline, and the owner drops it unrun once that has passed.
 *
 * <h2>Membership changes</h2>
 * When a member leaves the view, commands in flight to it fail with a transient {@link MemberLeftException}
 * and the gateway re-sends them, under the same command id, to the new owner; if the departed member had stored
 * the command's decision, the new owner finds it and answers with it instead of deciding again. Commands still
 * waiting in its outbox never left this member and are re-sent as not run. Cached aggregates whose ownership
 * moved away, or moved here, are dropped at once, so an aggregate that comes back is loaded fresh from the store.
 * A newcomer may send commands to a member that has not installed the view holding it yet: that member refuses them
 * unrun with a transient "not owner", as it does those of a view member not on its ring, and they are re-sent.
 * Closing the bus leaves gracefully: the member announces its departure (the others drop it from their rings at
 * once), refuses new commands with a transient "not owner", finishes the commands it accepted, and only then
 * disconnects, so clients see no failure.
 *
 * <h2>Tracking processors</h2>
 * The bus is also the node's {@link SegmentOwnership} (a node that uses it needs no setting): each member advertises
 * the tracking processors it runs, and the segments of each processor are placed with {@link
 * io.gyre.routing.SegmentPlacement} over the members that run it, evenly, moving when one joins or leaves, and taken
 * over at the next view when one dies. Epochs grow with every change anywhere in the cluster, also across a restart
 * of the whole cluster, so the token store fences an owner that has not heard of a change yet.
 *
 * <h2>Network partitions</h2>
 * When the network splits, each side forms its own view and its own ring, so both sides may own a key and run
 * commands for it. The event store is the arbiter: its sequence check lets only one decision per state succeed,
 * and a decision made on state it has moved past, events or not, is made again on fresh state. When the network
 * heals, MERGE3 merges the views and the rings agree again. A partition costs retries, never correctness.
 *
 * <h2>Defaults</h2>
 * TCP on 127.0.0.1, ports 7800 to 7820, TCPPING discovery of the same range: several nodes on one machine find
 * each other with no configuration. For several hosts set {@link Builder#bindAddress} and
 * {@link Builder#initialHosts}, or give a JGroups XML stack ({@link Builder#stackFile}), for example with
 * {@code DNS_PING} on Kubernetes or {@code JDBC_PING2} over the event store's database.
 */
public final class JGroupsCommandBus implements CommandBus, SegmentOwnership {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    /** The most a graceful leave waits for the members to acknowledge what it sent them last (its replies). */
    static final Duration ACKNOWLEDGEMENT_WAIT = Duration.ofSeconds(2);

    private enum State { NEW, RUNNING, LEAVING, CLOSED }

    private final BusConfig config;
    private final String selfId;
    private final Outbound outbound;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicReference<Membership.@Nullable Snapshot> staleOnce = new AtomicReference<>();
    private volatile State state = State.NEW;
    private @Nullable ClusterChannel channel;
    private @Nullable LocalCommandBus local;
    private @Nullable Serializer serializer;
    private @Nullable CommandBusContext context;
    private @Nullable ScheduledExecutorService timer;
    /** The aggregate types this member hosts, each with the command type names it handles for it. */
    private Map<String, Set<String>> hosted = Map.of();
    private @Nullable ExecutorService membershipWork;
    private volatile @Nullable RingKeeper ringKeeper;
    private final Discovery discovery;
    private volatile @Nullable Router router;
    private volatile @Nullable Inbound inbound;
    private final ClusterSegments segments;

    private JGroupsCommandBus(BusConfig config) {
        this.config = config;
        this.selfId = config.nodeName() != null ? config.nodeName() : defaultNodeName();
        this.discovery = new Discovery(config, selfId);
        this.segments = new ClusterSegments(selfId);
        this.outbound = new Outbound(selfId, config, this::channel, this::serializer, () -> state == State.CLOSED);
    }

    /** @return a builder with defaults that work on one machine */
    public static Builder builder() {
        return new Builder();
    }

    /** @return this member's id on the ring */
    public String memberId() {
        return selfId;
    }

    /**
     * The segments of tracking processors this member owns, on the cluster's ring: give it to
     * {@code ProcessingSettings.builder().segmentOwnership(bus.segmentOwnership())}, or nothing, since a node whose
     * command bus is this one uses it anyway. Usable before the bus starts; followed processors are advertised once
     * it has joined.
     *
     * @return this member's segment ownership
     */
    public SegmentOwnership segmentOwnership() {
        return segments;
    }

    /** @return this member's id, which is its name as a segment owner in the token store */
    @Override
    public String owner() {
        return segments.owner();
    }

    /**
     * Follows this member's share of a processor's segments; see {@link #segmentOwnership()}.
     *
     * @param processor the processor's name
     * @param segments  its segment count, the same on every member that runs it
     * @param listener  told the owned segments, on the bus's membership thread, one call at a time
     * @return closing it stops following; the other members take the segments over
     */
    @Override
    public Registration follow(String processor, int segments, Listener listener) {
        return this.segments.follow(processor, segments, listener);
    }

    /** Raises this member's segment incarnation above the stored epochs; see {@link #segmentOwnership()}. */
    @Override
    public void startAbove(String processor, long storedEpoch) {
        segments.startAbove(processor, storedEpoch);
    }

    /** Learns the incarnation of an epoch that refused a claim; see {@link #segmentOwnership()}. */
    @Override
    public void claimRefused(StaleSegmentOwnerException refusal) {
        segments.claimRefused(refusal);
    }

    /**
     * @param processor a processor this member follows
     * @return the member id that runs each of its segments, as this member last placed them; empty when it does
     *         not follow the processor
     */
    public Map<Integer, String> segmentOwners(String processor) {
        return segments.placementOf(processor);
    }

    /** @return the current ring, or null before the bus started or when no member can take commands */
    public @Nullable HashRing ring() {
        RingKeeper keeper = ringKeeper;
        Membership current = keeper == null ? null : keeper.membership();
        return current == null ? null : current.current().ring();
    }

    /** @return the ids of the members on the current ring */
    public List<String> members() {
        HashRing ring = ring();
        return ring == null ? List.of() : ring.members().stream().map(Member::id).toList();
    }

    /** @return commands this member refused because it did not own their aggregate (senders re-routed them) */
    public long refusedCommands() {
        return refused.get();
    }

    /** @return commands sent to other members and not answered yet */
    public int pendingRemoteCommands() {
        return outbound.pending().size();
    }

    /**
     * What the last ring change cost this member's cache.
     *
     * @param scanned  cached aggregates looked at
     * @param evicted  those dropped because their owner changed to or from this member
     * @param micros   how long it took, on the membership thread
     * @param cpuMicros the CPU time it took on that thread (-1 when the JVM does not measure thread CPU time)
     */
    public record Eviction(int scanned, int evicted, long micros, long cpuMicros) {
    }

    /** @return what the last ring change cost the cache, or null before the first one */
    public @Nullable Eviction lastEviction() {
        RingKeeper keeper = ringKeeper;
        return keeper == null ? null : keeper.lastEviction();
    }

    /**
     * What this member refused to believe: frames from addresses outside the view, commands from view members that
     * are not on the ring, replies from another member than the one asked, advertisements that break the rules
     * (weight above {@code maxMemberWeight}, malformed names), and departures announced by non-members. Only members
     * of the ring route commands here or are believed; on a cluster without TLS this is the only guard, so non-zero
     * counts there deserve a look (a few commands refused from outside the view are a newcomer's, and normal).
     *
     * @param fromOutsideView         frames received from addresses outside the view; nothing in them is believed
     * @param refusedFromOutsideView  commands in those frames refused as not run (transient, for a newcomer to re-send
     *                                once in the view), one count per command
     * @param outsideFramesOverBudget frames from outside the view dropped unread because their sender, or all senders
     *                                outside the view together, sent more than a member still joining would (their
     *                                commands are not counted: they were not read; a sender that later enters the
     *                                view is told, and sends them again)
     * @param commandsFromNonMembers  commands refused because their sender is not on the ring
     * @param misdirectedReplies      replies (or refusals) ignored because another member than the one asked sent them
     * @param refusedAdvertisements   advertisements refused
     * @param leavesFromNonMembers    departure notices ignored because their sender is not on the ring
     */
    public record Distrust(long fromOutsideView, long refusedFromOutsideView, long outsideFramesOverBudget,
                           long commandsFromNonMembers, long misdirectedReplies, long refusedAdvertisements,
                           long leavesFromNonMembers) {
    }

    /** @return what this member refused to believe so far */
    public Distrust distrust() {
        Inbound in = inbound;
        return in == null ? new Distrust(0, 0, 0, 0, 0, 0, 0) : in.distrust();
    }

    /** @return commands waiting in outboxes to be sent to other members */
    public int waitingRemoteCommands() {
        return outbound.waitingCommands();
    }

    @Override
    public void start(CommandBusContext nodeContext) {
        if (state != State.NEW) {
            throw new IllegalStateException("JGroupsCommandBus " + selfId + " was already started; build one per node");
        }
        this.context = nodeContext;
        this.local = nodeContext.localBus();
        this.serializer = nodeContext.serializer();
        Map<String, Set<String>> byAggregate = new java.util.TreeMap<>();
        for (Class<?> commandType : nodeContext.commandTypes()) {
            String aggregateType = Objects.requireNonNull(local.aggregateTypeOf(commandType), commandType.getName());
            byAggregate.computeIfAbsent(aggregateType, type -> new java.util.TreeSet<>())
                    .add(nodeContext.serializer().types().nameOf(commandType));
        }
        Advertisement ownAd = new Advertisement(selfId, config.weight(), byAggregate);
        this.hosted = ownAd.hosted();
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("gyre-cluster-timer-" + selfId));
        this.membershipWork = Executors.newSingleThreadExecutor(daemon("gyre-cluster-membership-" + selfId));
        this.ringKeeper = new RingKeeper(selfId, ownAd, this::channel, nodeContext.cachedAggregates(), timer,
                membershipWork, segments, nodeContext.clock(), config.suspectAfter());
        this.router = new Router(selfId, local, () -> ringKeeper.membership(), () -> state == State.RUNNING,
                refused);
        this.inbound = new Inbound(selfId, config, this::keeper, this::channel, () -> state == State.RUNNING, router,
                local, serializer, hosted, outbound.pending(), to -> outbound.outboxFor(to, String.valueOf(to)),
                refused, timer);
        ClusterChannel.Listener listener = new ClusterChannel.Listener() {
            @Override
            public void onFrame(Address from, byte[] buffer, int offset, int length) {
                Objects.requireNonNull(inbound).onFrame(from, buffer, offset, length);
            }

            @Override
            public void onView(View view) {
                JGroupsCommandBus.this.onView(view);
            }
        };
        try {
            ClusterChannel created = config.stackFile() != null
                    ? ClusterChannel.of(config.stackFile(), selfId, listener)
                    : ClusterChannel.of(discovery.defaultProtocols(), selfId, listener);
            channel = created;
            created.connect(config.cluster());
            if (!ringKeeper.awaitFirstView(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no view after connecting");
            }
        } catch (Exception e) {
            shutdownThreads();
            if (channel != null) {
                channel.close();
            }
            throw discovery.joinFailed(e);
        }
        discovery.warnIfInsecure();
        state = State.RUNNING;
        segments.bind(ringKeeper.processors());
        ringKeeper.startAdvertising();
        timer.scheduleAtFixedRate(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
        discovery.awaitAdvertisements(membership(), channel(), this::members);
        ClusterJoinException tooFew = discovery.awaitMinMembers(this::members);
        if (tooFew != null) {
            close();
            throw tooFew;
        }
        timer.scheduleAtFixedRate(this::warnIfSmall, 30, 30, TimeUnit.SECONDS);
        log.info("Member {} joined cluster '{}' as {}; ring members {}", selfId, config.cluster(),
                channel().address(), members());
        warnIfSmall();
    }

    private void warnIfSmall() {
        if (state == State.RUNNING) {
            discovery.warnIfSmall(members(), channel());
        }
    }

    @Override
    public CommandDispatch dispatch(CommandMessage command) {
        State now = state;
        RingKeeper keeper = ringKeeper;
        Membership current = keeper == null ? null : keeper.membership();
        if (now == State.NEW || now == State.CLOSED || current == null) {
            return CommandDispatch.refused(command, new CommandBusClosedException("Member " + selfId + " is "
                    + (now == State.NEW ? "not started" : "closed") + "; " + command + " was not sent"));
        }
        try {
            String commandType = serializer().types().nameOf(command.payloadType());
            Membership.Snapshot stale = staleOnce.getAndSet(null);
            Membership.Snapshot snapshot = stale != null ? stale : current.current();
            Router routes = Objects.requireNonNull(router);
            String aggregateType = routes.aggregateTypeOf(command.payloadType(), commandType, snapshot);
            Member owner = routes.ownerOf(snapshot, command.routingKey(), aggregateType);
            if (owner.id().equals(selfId)) {
                if (localBus().aggregateTypeOf(command.payloadType()) == null) {
                    throw routes.handlerNotAvailable(aggregateType, commandType, command.routingKey());
                }
                return localBus().dispatch(command, routes::checkStillOwner);
            }
            Address target = Objects.requireNonNull(snapshot.addresses().get(owner.id()), owner.id());
            return outbound.send(command, target, owner.id(), aggregateType, commandType, snapshot.version(),
                    snapshot.handles(owner.id(), commandType));
        } catch (GyreException e) {
            return CommandDispatch.refused(command, e);
        }
    }

    private void onView(View view) {
        Objects.requireNonNull(inbound).onView(view);
        Membership.Change change = keeper().onView(view);
        if (change == null || change.departed().isEmpty()) {
            return;
        }
        outbound.onDeparted(change.departed());
    }

    /**
     * Ends requests whose callers stopped waiting long ago, asks for advertisements that are missing, and drops
     * outboxes and requests to addresses that left the view without {@link #onView} noticing ({@link Outbound}).
     * Never throws, since a scheduled task that throws is never run again.
     */
    private void sweep() {
        try {
            outbound.expire();
            if (!membership().allAdvertised()) {
                keeper().reconcileLater();
            }
            outbound.dropOutside(channel().view());
        } catch (RuntimeException e) {
            log.warn("Member {} could not sweep its pending requests: {}", selfId, e.toString(), e);
        }
    }

    /**
     * Leaves the cluster gracefully, handing its aggregates over without ever letting two members run one
     * aggregate's commands at once: first this member stops starting commands (they are refused with a transient
     * "not owner" and their senders retry) and lets the ones already running finish; only then does it announce its
     * departure, so the others take its aggregates over from a finished state; then it waits (up to the leave
     * timeout in all) for the commands it sent to others, and disconnects. Idempotent.
     */
    @Override
    public void close() {
        if (state == State.NEW) {
            state = State.CLOSED;
            return;
        }
        if (state != State.RUNNING) {
            return;
        }
        state = State.LEAVING;
        long deadline = System.nanoTime() + config.leaveTimeout().toNanos();
        awaitUntil(deadline, () -> localBus().pendingCommands() == 0);
        keeper().stopAdvertising();
        keeper().processors().leave();
        try {
            channel().broadcast(WireFormat.encode(new Leaving(selfId)));
        } catch (Exception e) {
            log.warn("Member {} could not announce its departure: {}", selfId, e.toString());
        }
        keeper().onLeaving(channel().address());
        // Replies too: a command this member ran is stored, and its sender, told only that the member left, would
        // have to send it again to learn its outcome, and might not before its deadline.
        awaitUntil(deadline, () -> localBus().pendingCommands() == 0 && outbound.pending().size() == 0
                && waitingRemoteCommands() == 0 && unansweredRemoteCommands() == 0 && !outbound.sendingReplies());
        // Handed to the transport is not yet sent: with non-blocking sends a reply may still wait in a connection's
        // send queue, which the disconnect below drops (46 of 100 replies to one member were lost so on a contended
        // machine, GracefulLeaveRepliesTest). Wait until the members acknowledged them (UNICAST3 acknowledges within
        // its retransmission interval), within the same deadline and at most ACKNOWLEDGEMENT_WAIT: a member that
        // stopped reading never acknowledges, and must not hold the leave for the whole leave timeout.
        long ackWaitEnds = System.nanoTime() + ACKNOWLEDGEMENT_WAIT.toNanos();
        long acknowledged = ackWaitEnds - deadline < 0 ? ackWaitEnds : deadline;
        awaitUntil(acknowledged, () -> channel().unacknowledgedToMembers() == 0);
        state = State.CLOSED;
        outbound.closeOutboxes();
        outbound.closed();
        channel().disconnectAndClose();
        shutdownThreads();
        log.info("Member {} left cluster '{}'", selfId, config.cluster());
    }

    private static void awaitUntil(long deadline, java.util.function.BooleanSupplier done) {
        while (!done.getAsBoolean() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private int unansweredRemoteCommands() {
        Inbound in = inbound;
        return in == null ? 0 : in.unansweredCommands();
    }

    private void shutdownThreads() {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (membershipWork != null) {
            membershipWork.shutdownNow();
        }
    }

    /**
     * Cuts this member off as a crash would: its channel closes without announcing anything, so the others only
     * learn of it through failure detection. For tests only.
     */
    void crashForTest() {
        state = State.CLOSED;
        // Before the channel: shutting the stack down installs a last view of this member alone, and a member that
        // crashed must not act on it (place every segment on itself and claim them) as no crashed process could.
        shutdownThreads();
        channel().crash();
        outbound.closeOutboxes();
        outbound.crashed();
    }

    /**
     * Makes this member route its next command with the given ring, as a member whose view lags behind would.
     * For tests of fencing only.
     *
     * @param ring the ring to route the next command with
     */
    void routeNextWithStaleRing(Membership.Snapshot ring) {
        staleOnce.set(ring);
    }

    /**
     * @param type a protocol class
     * @param <T>  the class
     * @return the protocol of that class in this member's stack, or null; for tests that cut the network
     */
    <T extends Protocol> @Nullable T protocolForTest(Class<T> type) {
        return channel().protocol(type);
    }

    /** @return this member's JGroups address, for tests */
    Address addressForTest() {
        return channel().address();
    }

    /** @return the current ring state, for tests */
    Membership.Snapshot snapshot() {
        return membership().current();
    }

    private RingKeeper keeper() {
        return Objects.requireNonNull(ringKeeper, "not started");
    }

    private Membership membership() {
        return Objects.requireNonNull(keeper().membership(), "not joined");
    }

    private ClusterChannel channel() {
        return Objects.requireNonNull(channel, "not started");
    }

    private LocalCommandBus localBus() {
        return Objects.requireNonNull(local, "not started");
    }

    private Serializer serializer() {
        return Objects.requireNonNull(serializer, "not started");
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    private static String defaultNodeName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "node";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(
                ThreadLocalRandom.current().nextInt(0x10000));
    }

    @Override
    public String toString() {
        return "JGroupsCommandBus[" + selfId + " in " + config.cluster() + ", " + state + "]";
    }

    /**
     * Configures a {@link JGroupsCommandBus}: each setting is checked as it is set, and {@link #build()} refuses
     * settings that contradict each other.
     */
    public static final class Builder {

        /** The settings chosen so far, with their defaults and checks; {@link #build()} freezes them. */
        private final BusConfigDraft draft = new BusConfigDraft();

        private Builder() {
        }

        /**
         * @param cluster the cluster name; nodes with the same name form one cluster (default "gyre"): letters,
         *                digits, {@code . _ -}, at most 100
         * @return this builder
         */
        public Builder cluster(String cluster) {
            draft.cluster(cluster);
            return this;
        }

        /**
         * @param nodeName this node's member id on the ring, unique in the cluster; a node that restarts with the
         *                 same name gets the same keys back (default: host, process id and a random suffix)
         * @return this builder
         */
        public Builder nodeName(String nodeName) {
            draft.nodeName(nodeName);
            return this;
        }

        /**
         * @param weight this node's share of the keys relative to others, 1 to 100 (default 1)
         * @return this builder
         */
        public Builder weight(int weight) {
            draft.weight(weight);
            return this;
        }

        /**
         * @param bindAddress the address to listen on (default 127.0.0.1)
         * @return this builder
         */
        public Builder bindAddress(InetAddress bindAddress) {
            draft.bindAddress(bindAddress);
            return this;
        }

        /**
         * @param bindPort  the first port to try (default 7800)
         * @param portRange how many ports above it to try, and to probe on every initial host (default 20)
         * @return this builder
         */
        public Builder bindPort(int bindPort, int portRange) {
            draft.bindPort(bindPort, portRange);
            return this;
        }

        /**
         * @param hosts the nodes to contact first, each the base port of a port range (default: this node's own
         *              bind address and port, which finds every node of one machine)
         * @return this builder
         */
        public Builder initialHosts(List<InetSocketAddress> hosts) {
            draft.initialHosts(hosts);
            return this;
        }

        /**
         * @param stackFile a JGroups XML stack to use instead of the default (bind and discovery settings then come
         *                  from the file)
         * @return this builder
         */
        public Builder stackFile(Path stackFile) {
            draft.stackFile(stackFile);
            return this;
        }

        /**
         * @param suspectAfter how long a member may stay silent before it is suspected of hanging, 300 ms to 5
         *                     minutes (default 3 s); a killed process is noticed at once through its closed
         *                     connections whatever this is. Sets the default stack's failure detection; with a
         *                     {@link #stackFile}, the file's own applies (and is what tells a restart from a
         *                     duplicate member id), and this is used only when the file has no heartbeats
         * @return this builder
         */
        public Builder suspectAfter(Duration suspectAfter) {
            draft.suspectAfter(suspectAfter);
            return this;
        }

        /**
         * @param maxInFlightPerMember commands sent to one member and not answered at once, 1 to 100,000 (default
         *                             1,024); further commands for that member wait in its outbox, in order, so one
         *                             slow member holds up only its own commands
         * @return this builder
         */
        public Builder maxInFlightPerMember(int maxInFlightPerMember) {
            draft.maxInFlightPerMember(maxInFlightPerMember);
            return this;
        }

        /**
         * Secures the cluster with mutual TLS: every connection is encrypted, and only members whose certificate the
         * trust store vouches for can join, route or be believed. Required on any address but loopback, unless
         * {@link #insecureWithoutTls()} says otherwise.
         *
         * @param tls the key and trust stores
         * @return this builder
         */
        public Builder tls(ClusterTls tls) {
            draft.tls(tls);
            return this;
        }

        /**
         * Accepts running on a non-loopback address without TLS: then anyone who can reach this node's ports can
         * join the cluster, be given aggregates to own, and have commands run. Only for networks where nothing else
         * can connect; the node logs a warning at every start.
         *
         * @return this builder
         */
        public Builder insecureWithoutTls() {
            draft.insecureWithoutTls();
            return this;
        }

        /**
         * @param maxMemberWeight the largest weight a member may claim in its advertisement, 1 to 100 (default 10):
         *                        an advertisement above it is refused and counted, so no member can take more than
         *                        that share of the ring however it presents itself
         * @return this builder
         */
        public Builder maxMemberWeight(int maxMemberWeight) {
            draft.maxMemberWeight(maxMemberWeight);
            return this;
        }

        /**
         * @param minMembers the fewest members, this one included, the ring must have before the node starts
         *                   taking commands, 1 to 1000 (default 1: no gate). Starting waits up to the
         *                   {@link #startTimeout(Duration) start timeout} and then fails with a
         *                   {@link ClusterJoinException} naming the discovery settings; while running, the node
         *                   warns every 30 s as long as it sees fewer. Set it to the cluster's size (or a majority
         *                   of it) so that two nodes whose discovery misses each other never both own everything.
         * @return this builder
         */
        public Builder minMembers(int minMembers) {
            draft.minMembers(minMembers);
            return this;
        }

        /**
         * @param startTimeout how long starting waits for {@link #minMembers(int)} members, 1 s to 1 hour (default
         *                     60 s)
         * @return this builder
         */
        public Builder startTimeout(Duration startTimeout) {
            draft.startTimeout(startTimeout);
            return this;
        }

        /**
         * @param leaveTimeout how long a graceful leave waits for the commands in progress, 0 to 1 hour
         *                     (default 30 s)
         * @return this builder
         */
        public Builder leaveTimeout(Duration leaveTimeout) {
            draft.leaveTimeout(leaveTimeout);
            return this;
        }

        /**
         * @param maxMessageBytes the largest command or reply on the wire, 1 KiB to 512 MiB (default 8 MiB)
         * @return this builder
         */
        public Builder maxMessageBytes(int maxMessageBytes) {
            draft.maxMessageBytes(maxMessageBytes);
            return this;
        }

        /**
         * Advanced: changes the default protocol stack before the channel is created, for example to add a
         * protocol or tune one. Ignored with {@link #stackFile}.
         *
         * @param customizer receives the default protocols, transport first, and may edit the list
         * @return this builder
         */
        public Builder customizeStack(Consumer<List<Protocol>> customizer) {
            draft.customizeStack(customizer);
            return this;
        }

        /**
         * @return the bus, connected when its node starts; it keeps no reference to this builder
         * @throws IllegalStateException when settings contradict each other (a stack file together with a bind
         *                               address, initial hosts or TLS, which the file sets), when the weight is above
         *                               the cluster's maximum, or when the node would listen on a non-loopback
         *                               address without TLS and without {@link #insecureWithoutTls()}
         */
        public JGroupsCommandBus build() {
            return new JGroupsCommandBus(draft.toConfig());
        }
    }
}
