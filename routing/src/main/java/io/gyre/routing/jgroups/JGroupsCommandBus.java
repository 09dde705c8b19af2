package io.gyre.routing.jgroups;

import io.gyre.GyreException;
import io.gyre.Metadata;
import io.gyre.command.CommandBus;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandBusContext;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandTimeoutException;
import io.gyre.command.LocalCommandBus;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.internal.TargetIdAccessor;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.MemberLeftException;
import io.gyre.routing.MessageTooLargeException;
import io.gyre.routing.NoEligibleMemberException;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.jgroups.internal.DefaultStack;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.Membership;
import io.gyre.routing.jgroups.internal.PendingRequests;
import io.gyre.routing.jgroups.internal.PendingRequests.Pending;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.routing.jgroups.internal.WireMessage.Leaving;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.MergeView;
import org.jgroups.Message;
import org.jgroups.PhysicalAddress;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.stack.IpAddress;
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
 * <h2>Membership changes</h2>
 * When a member leaves the view, commands in flight to it fail with a transient {@link MemberLeftException}
 * and the gateway re-sends them, under the same command id, to the new owner; if the departed member had stored
 * the command's events, the new owner finds them and answers with the stored result instead of running the
 * command again. Cached aggregates whose ownership moved away, or moved here, are dropped at once, so an
 * aggregate that comes back is loaded fresh from the store. Closing the bus leaves gracefully: the member
 * announces its departure (the others drop it from their rings at once), refuses new commands with a transient
 * "not owner", finishes the commands it accepted, and only then disconnects, so clients see no failure.
 *
 * <h2>Network partitions</h2>
 * When the network splits, each side forms its own view and its own ring, so both sides may own a key and run
 * commands for it. The event store's sequence check lets only one append per sequence number succeed; the loser
 * gets a concurrency conflict and is retried on freshly loaded state, so every stream stays contiguous and every
 * event is decided on the latest state. When the network heals, MERGE3 merges the views and the rings agree
 * again. The store is the final arbiter: a partition costs retries, never correctness.
 *
 * <h2>Defaults</h2>
 * TCP on 127.0.0.1, ports 7800 to 7820, TCPPING discovery of the same range: several nodes on one machine find
 * each other with no configuration. For several hosts set {@link Builder#bindAddress} and
 * {@link Builder#initialHosts}, or give a JGroups XML stack ({@link Builder#stackFile}), for example with
 * {@code DNS_PING} on Kubernetes or {@code JDBC_PING2} over the event store's database.
 */
public final class JGroupsCommandBus implements CommandBus {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    private enum State { NEW, RUNNING, LEAVING, CLOSED }

    private final Builder config;
    private final String selfId;
    private final PendingRequests pending = new PendingRequests();
    private final CountDownLatch joined = new CountDownLatch(1);
    private final AtomicLong refused = new AtomicLong();
    private final AtomicReference<Membership.@Nullable Snapshot> staleOnce = new AtomicReference<>();
    private volatile State state = State.NEW;
    private @Nullable JChannel channel;
    private @Nullable LocalCommandBus local;
    private @Nullable Serializer serializer;
    private @Nullable CommandBusContext context;
    private @Nullable ScheduledExecutorService timer;
    private @Nullable ExecutorService completions;
    private volatile @Nullable Membership membership;
    private Set<String> localTypes = Set.of();
    private @Nullable Advertisement ownAd;

    private JGroupsCommandBus(Builder config) {
        this.config = config;
        this.selfId = config.nodeName != null ? config.nodeName : defaultNodeName();
    }

    /** @return a builder with defaults that work on one machine */
    public static Builder builder() {
        return new Builder();
    }

    /** @return this member's id on the ring */
    public String memberId() {
        return selfId;
    }

    /** @return the current ring, or null before the bus started or when no member can take commands */
    public @Nullable HashRing ring() {
        Membership current = membership;
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
        return pending.size();
    }

    @Override
    public void start(CommandBusContext nodeContext) {
        if (state != State.NEW) {
            throw new IllegalStateException("JGroupsCommandBus " + selfId + " was already started; build one per node");
        }
        this.context = nodeContext;
        this.local = nodeContext.localBus();
        this.serializer = nodeContext.serializer();
        this.localTypes = nodeContext.commandTypes().stream().map(type -> nodeContext.serializer().types().nameOf(type))
                .collect(Collectors.toUnmodifiableSet());
        this.ownAd = new Advertisement(selfId, config.weight, localTypes);
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("gyre-cluster-timer-" + selfId));
        this.completions = Executors.newFixedThreadPool(2, daemon("gyre-cluster-replies-" + selfId));
        try {
            JChannel created = config.stackFile != null ? new JChannel(config.stackFile.toString())
                    : new JChannel(defaultProtocols());
            created.name(selfId);
            created.setDiscardOwnMessages(true);
            created.setReceiver(new ChannelReceiver());
            channel = created;
            created.connect(config.cluster);
            if (!joined.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no view after connecting");
            }
        } catch (Exception e) {
            shutdownThreads();
            if (channel != null) {
                channel.close();
            }
            throw new CommandBusClosedException("Member " + selfId + " could not join cluster '" + config.cluster
                    + "': " + e);
        }
        state = State.RUNNING;
        advertise();
        timer.scheduleAtFixedRate(this::expireRequests, 250, 250, TimeUnit.MILLISECONDS);
        awaitAdvertisements();
        log.info("Member {} joined cluster '{}' as {}; ring members {}", selfId, config.cluster,
                channel.getAddress(), members());
    }

    /**
     * Waits (up to 10 s) until every member of the view has advertised itself: until then this member's ring
     * holds too few members, and it would run commands for keys the others still own.
     */
    private void awaitAdvertisements() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!membership().allAdvertised() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (!membership().allAdvertised()) {
            log.warn("Member {}: not every member of view {} advertised itself within 10 s; starting with ring {}",
                    selfId, channel().getView(), members());
        }
    }

    private List<Protocol> defaultProtocols() {
        List<PhysicalAddress> initial = new ArrayList<>();
        for (InetSocketAddress host : config.initialHosts.isEmpty()
                ? List.of(new InetSocketAddress(config.bindAddress, config.bindPort)) : config.initialHosts) {
            initial.add(new IpAddress(host.getAddress(), host.getPort()));
        }
        List<Protocol> protocols = new ArrayList<>(DefaultStack.protocols(config.bindAddress, config.bindPort,
                config.portRange, initial, config.suspectAfter.toMillis(), false));
        config.stackCustomizer.accept(protocols);
        return protocols;
    }

    @Override
    public CompletableFuture<Object> dispatch(CommandMessage command) {
        State now = state;
        Membership current = membership;
        if (now == State.NEW || now == State.CLOSED || current == null) {
            return CompletableFuture.failedFuture(new CommandBusClosedException("Member " + selfId + " is "
                    + (now == State.NEW ? "not started" : "closed") + "; " + command + " was not sent"));
        }
        try {
            String type = serializer().types().nameOf(command.payloadType());
            Membership.Snapshot stale = staleOnce.getAndSet(null);
            Membership.Snapshot snapshot = stale != null ? stale : current.current();
            Member owner = ownerOf(snapshot, command.routingKey(), type);
            if (owner.id().equals(selfId)) {
                return localBus().dispatch(command, this::checkStillOwner);
            }
            Address target = snapshot.addresses().get(owner.id());
            return send(Objects.requireNonNull(target, owner.id()), owner.id(), command, type, snapshot.version());
        } catch (GyreException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private Member ownerOf(Membership.Snapshot snapshot, String key, String type) {
        HashRing ring = snapshot.ring();
        if (ring == null) {
            throw new CommandBusClosedException("No member of cluster '" + config.cluster + "' takes commands right "
                    + "now (ring version " + snapshot.version() + ")");
        }
        return ring.owner(key, type);
    }

    /** Runs on the worker thread right before the handler: only the current owner may run a command. */
    private void checkStillOwner(CommandMessage command) {
        Membership current = membership;
        if (state != State.RUNNING || current == null) {
            refused.incrementAndGet();
            throw new NotOwnerException("Member " + selfId + " is leaving and no longer runs " + command);
        }
        Membership.Snapshot snapshot = current.current();
        String type = serializer().types().nameOf(command.payloadType());
        Member owner = ownerOf(snapshot, command.routingKey(), type);
        if (!owner.id().equals(selfId)) {
            refused.incrementAndGet();
            throw new NotOwnerException("Member " + selfId + " does not own '" + command.routingKey() + "' in ring "
                    + "version " + snapshot.version() + " (owner: " + owner.id() + "); " + command + " was not run");
        }
    }

    private CompletableFuture<Object> send(Address target, String member, CommandMessage command, String type,
                                           long ringVersion) {
        Serializer wire = serializer();
        SerializedValue payload = wire.serialize(command.payload());
        String metadata = wire.serializeMetadata(command.metadata());
        Pending request = pending.register(target, member, command, System.nanoTime() + config.requestTimeout.toNanos());
        byte[] bytes = WireFormat.encode(new CommandRequest(request.id(), ringVersion, command.commandId(),
                command.attempt(), command.callerChosenId(), type, command.routingKey(), metadata, payload.data()));
        if (bytes.length > config.maxMessageBytes) {
            fail(request, new MessageTooLargeException(command + " is " + bytes.length + " bytes on the wire, over "
                    + "the cluster's limit of " + config.maxMessageBytes + " bytes (maxMessageBytes)"));
            return request.future();
        }
        JChannel ch = channel();
        View view = ch.getView();
        if (view == null || !view.containsMember(target)) {
            fail(request, new MemberLeftException("Member " + member + " left before " + command + " could be sent"));
            return request.future();
        }
        try {
            ch.send(new BytesMessage(target, bytes));
        } catch (Exception e) {
            fail(request, new MemberLeftException("Sending " + command + " to member " + member + " failed: " + e));
        }
        return request.future();
    }

    private void fail(Pending request, RuntimeException failure) {
        if (pending.take(request.id()) != null) {
            request.future().completeExceptionally(failure);
        }
    }

    private void onCommand(Address from, CommandRequest request, int size) {
        if (size > config.maxMessageBytes) {
            reply(from, request.requestId(), null, new MessageTooLargeException("A command of " + size + " bytes "
                    + "reached member " + selfId + ", over its limit of " + config.maxMessageBytes + " bytes"));
            return;
        }
        if (state != State.RUNNING) {
            refused.incrementAndGet();
            reply(from, request.requestId(), null, new NotOwnerException("Member " + selfId + " is leaving; "
                    + "command " + request.commandId() + " for '" + request.routingKey() + "' was not run"));
            return;
        }
        CommandMessage command;
        try {
            Serializer wire = serializer();
            Object payload = wire.deserialize(new SerializedValue(request.commandType(), request.payload()));
            Metadata metadata = wire.deserializeMetadata(request.metadata());
            String key = TargetIdAccessor.of(payload.getClass()).routingKey(payload);
            if (!key.equals(request.routingKey())) {
                throw new MissingTargetAggregateIdException("Command " + request.commandId() + " was routed as '"
                        + request.routingKey() + "' but targets '" + key + "'; refused");
            }
            command = new CommandMessage(request.commandId(), payload, key, metadata, Math.max(1, request.attempt()),
                    request.callerChosenId());
            Member owner = ownerOf(membership().current(), key, request.commandType());
            if (!owner.id().equals(selfId)) {
                refused.incrementAndGet();
                throw new NotOwnerException("Member " + selfId + " does not own '" + key + "' in ring version "
                        + membership().current().version() + " (owner: " + owner.id() + "; sender's ring version "
                        + request.ringVersion() + ")");
            }
        } catch (GyreException e) {
            reply(from, request.requestId(), null, e);
            return;
        } catch (RuntimeException e) {
            reply(from, request.requestId(), null, new SerializationException("Command " + request.commandId()
                    + " from " + from + " is malformed: " + e.getMessage(), e));
            return;
        }
        localBus().dispatch(command, this::checkStillOwner)
                .whenComplete((result, failure) -> reply(from, request.requestId(), result, failure));
    }

    private void reply(Address to, long requestId, @Nullable Object result, @Nullable Throwable failure) {
        Reply reply;
        if (failure != null) {
            reply = new Reply(requestId, null, ErrorCodec.encode(failure));
        } else {
            try {
                reply = new Reply(requestId, result == null ? null : serializer().serialize(result), null);
            } catch (GyreException e) {
                reply = new Reply(requestId, null, ErrorCodec.encode(e));
            }
        }
        byte[] bytes = WireFormat.encode(reply);
        if (bytes.length > config.maxMessageBytes) {
            bytes = WireFormat.encode(new Reply(requestId, null, ErrorCodec.encode(new MessageTooLargeException(
                    "The result of request " + requestId + " is " + bytes.length + " bytes, over the limit of "
                            + config.maxMessageBytes))));
        }
        try {
            channel().send(new BytesMessage(to, bytes));
        } catch (Exception e) {
            log.debug("Reply {} to {} not sent: {}", requestId, to, e.toString());
        }
    }

    private void onReply(Address from, Reply reply) {
        Pending expected = pending.get(reply.requestId());
        if (expected == null) {
            return;
        }
        if (!expected.target().equals(from)) {
            log.warn("Reply to request {} came from {} instead of {}; ignored", reply.requestId(), from,
                    expected.target());
            return;
        }
        Pending request = pending.take(reply.requestId());
        if (request == null) {
            return;
        }
        completions().execute(() -> {
            WireMessage.WireError error = reply.error();
            SerializedValue result = reply.result();
            try {
                if (error != null) {
                    request.future().completeExceptionally(ErrorCodec.decode(error, request.member()));
                } else {
                    request.future().complete(result == null ? null : serializer().deserialize(result));
                }
            } catch (RuntimeException e) {
                request.future().completeExceptionally(e);
            }
        });
    }

    private void onView(View view) {
        Membership current = membership;
        if (current == null) {
            Advertisement ad = Objects.requireNonNull(ownAd);
            membership = new Membership(channel().getAddress(), ad, view);
            joined.countDown();
            return;
        }
        Membership.Change change = current.onView(view);
        if (view instanceof MergeView && context != null) {
            // Both sides of a partition may have written any aggregate: nothing cached here can be trusted.
            context.evictCachedAggregates(id -> true);
        }
        if (!change.departed().isEmpty()) {
            pending.failIf(request -> change.departed().contains(request.target()), request ->
                    new MemberLeftException("Member " + request.member() + " left before answering "
                            + request.command()));
        }
        applied(change);
        ScheduledExecutorService scheduler = timer;
        if (scheduler != null && state == State.RUNNING) {
            try {
                scheduler.execute(this::advertise);
            } catch (RuntimeException e) {
                log.debug("Not advertising: {}", e.toString());
            }
        }
        log.info("Member {}: view {} -> ring version {} with members {}", selfId, view.getViewId(),
                change.after().version(), change.after().addresses().keySet());
    }

    /** Drops cached aggregates whose ownership moved away from or to this member. */
    private void applied(Membership.Change change) {
        if (change.before() == change.after() || context == null) {
            return;
        }
        Membership.Snapshot before = change.before();
        Membership.Snapshot after = change.after();
        context.evictCachedAggregates(id -> {
            for (String type : localTypes) {
                if (ownsIn(before, id, type) != ownsIn(after, id, type)) {
                    return true;
                }
            }
            return false;
        });
    }

    private boolean ownsIn(Membership.Snapshot snapshot, String key, String type) {
        HashRing ring = snapshot.ring();
        if (ring == null) {
            return false;
        }
        try {
            return ring.owner(key, type).id().equals(selfId);
        } catch (NoEligibleMemberException e) {
            return false;
        }
    }

    private void advertise() {
        try {
            channel().send(new BytesMessage(null, WireFormat.encode(Objects.requireNonNull(ownAd))));
        } catch (Exception e) {
            log.warn("Member {} could not advertise itself: {}", selfId, e.toString());
        }
    }

    private void expireRequests() {
        long now = System.nanoTime();
        pending.failIf(request -> now - request.deadline() > 0, request -> new CommandTimeoutException("Member "
                + request.member() + " did not answer " + request.command() + " within " + config.requestTimeout));
    }

    /**
     * Leaves the cluster gracefully: announces the departure so the others drop this member from their rings,
     * refuses new commands with a transient "not owner", waits (up to the leave timeout) for the commands it
     * accepted and the commands it sent, then disconnects. Idempotent.
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
        Membership current = membership();
        try {
            channel().send(new BytesMessage(null, WireFormat.encode(new Leaving(selfId))));
        } catch (Exception e) {
            log.warn("Member {} could not announce its departure: {}", selfId, e.toString());
        }
        applied(current.onLeaving(channel().getAddress()));
        long deadline = System.nanoTime() + config.leaveTimeout.toNanos();
        while ((localBus().pendingCommands() > 0 || pending.size() > 0) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        state = State.CLOSED;
        pending.failIf(request -> true, request -> new CommandBusClosedException("Member " + selfId
                + " closed before " + request.member() + " answered " + request.command()));
        JChannel ch = channel();
        ch.disconnect();
        ch.close();
        shutdownThreads();
        log.info("Member {} left cluster '{}'", selfId, config.cluster);
    }

    private void shutdownThreads() {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (completions != null) {
            completions.shutdown();
        }
    }

    /**
     * Cuts this member off as a crash would: its channel closes without announcing anything, so the others only
     * learn of it through failure detection. For tests only.
     */
    void crashForTest() {
        state = State.CLOSED;
        try {
            org.jgroups.util.Util.shutdown(channel());
        } catch (Exception e) {
            throw new IllegalStateException("crashing the channel failed", e);
        }
        pending.failIf(request -> true, request -> new MemberLeftException("Member " + selfId + " crashed before "
                + request.member() + " answered " + request.command()));
        shutdownThreads();
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
        return channel().getProtocolStack().findProtocol(type);
    }

    /** @return this member's JGroups address, for tests */
    Address addressForTest() {
        return channel().getAddress();
    }

    /** @return the current ring state, for tests */
    Membership.Snapshot snapshot() {
        return membership().current();
    }

    private Membership membership() {
        return Objects.requireNonNull(membership, "not started");
    }

    private JChannel channel() {
        return Objects.requireNonNull(channel, "not started");
    }

    private LocalCommandBus localBus() {
        return Objects.requireNonNull(local, "not started");
    }

    private Serializer serializer() {
        return Objects.requireNonNull(serializer, "not started");
    }

    private ExecutorService completions() {
        return Objects.requireNonNull(completions, "not started");
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
        return "JGroupsCommandBus[" + selfId + " in " + config.cluster + ", " + state + "]";
    }

    private final class ChannelReceiver implements Receiver {

        @Override
        public void receive(Message message) {
            try {
                if (!joined.await(30, TimeUnit.SECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            Address from = message.getSrc();
            WireMessage decoded;
            try {
                decoded = WireFormat.decode(message.getArray(), message.getOffset(), message.getLength());
            } catch (GyreException e) {
                log.warn("Member {} dropped an unreadable message from {}: {}", selfId, from, e.getMessage());
                return;
            }
            if (decoded instanceof CommandRequest request) {
                onCommand(from, request, message.getLength());
            } else if (decoded instanceof Reply reply) {
                onReply(from, reply);
            } else if (decoded instanceof Advertisement ad) {
                applied(membership().onAdvertisement(from, ad));
            } else if (decoded instanceof Leaving) {
                applied(membership().onLeaving(from));
            }
        }

        @Override
        public void viewAccepted(View view) {
            onView(view);
        }
    }

    /** Configures a {@link JGroupsCommandBus}; each setter checks its value at once. */
    public static final class Builder {

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
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration leaveTimeout = Duration.ofSeconds(30);
        private int maxMessageBytes = 8 * 1024 * 1024;
        private Consumer<List<Protocol>> stackCustomizer = protocols -> { };

        private Builder() {
        }

        /**
         * @param cluster the cluster name; nodes with the same name form one cluster (default "gyre"): letters,
         *                digits, {@code . _ -}, at most 100
         * @return this builder
         */
        public Builder cluster(String cluster) {
            this.cluster = checkName("cluster", cluster);
            return this;
        }

        /**
         * @param nodeName this node's member id on the ring, unique in the cluster; a node that restarts with the
         *                 same name gets the same keys back (default: host, process id and a random suffix)
         * @return this builder
         */
        public Builder nodeName(String nodeName) {
            this.nodeName = checkName("nodeName", nodeName);
            return this;
        }

        /**
         * @param weight this node's share of the keys relative to others, 1 to 100 (default 1)
         * @return this builder
         */
        public Builder weight(int weight) {
            if (weight < Member.MIN_WEIGHT || weight > Member.MAX_WEIGHT) {
                throw new IllegalArgumentException("weight must be between " + Member.MIN_WEIGHT + " and "
                        + Member.MAX_WEIGHT + ", but was " + weight);
            }
            this.weight = weight;
            return this;
        }

        /**
         * @param bindAddress the address to listen on (default 127.0.0.1)
         * @return this builder
         */
        public Builder bindAddress(InetAddress bindAddress) {
            this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
            return this;
        }

        /**
         * @param bindPort  the first port to try (default 7800)
         * @param portRange how many ports above it to try, and to probe on every initial host (default 20)
         * @return this builder
         */
        public Builder bindPort(int bindPort, int portRange) {
            if (bindPort < 1 || bindPort > 65_535) {
                throw new IllegalArgumentException("bindPort must be between 1 and 65535, but was " + bindPort);
            }
            if (portRange < 0 || portRange > 1000 || bindPort + portRange > 65_535) {
                throw new IllegalArgumentException("portRange must be between 0 and 1000 and end below 65536, but "
                        + "was " + portRange);
            }
            this.bindPort = bindPort;
            this.portRange = portRange;
            return this;
        }

        /**
         * @param hosts the nodes to contact first, each the base port of a port range (default: this node's own
         *              bind address and port, which finds every node of one machine)
         * @return this builder
         */
        public Builder initialHosts(List<InetSocketAddress> hosts) {
            this.initialHosts = List.copyOf(hosts);
            return this;
        }

        /**
         * @param stackFile a JGroups XML stack to use instead of the default (bind and discovery settings then come
         *                  from the file)
         * @return this builder
         */
        public Builder stackFile(Path stackFile) {
            this.stackFile = Objects.requireNonNull(stackFile, "stackFile");
            return this;
        }

        /**
         * @param suspectAfter how long a member may stay silent before it is suspected of hanging, 300 ms to 5
         *                     minutes (default 3 s); a killed process is noticed at once through its closed
         *                     connections whatever this is
         * @return this builder
         */
        public Builder suspectAfter(Duration suspectAfter) {
            this.suspectAfter = checkDuration("suspectAfter", suspectAfter, Duration.ofMillis(300),
                    Duration.ofMinutes(5));
            return this;
        }

        /**
         * @param requestTimeout how long to wait for another member's answer before giving up on it (transient,
         *                       so the gateway may retry), 100 ms to 1 hour (default 30 s)
         * @return this builder
         */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = checkDuration("requestTimeout", requestTimeout, Duration.ofMillis(100),
                    Duration.ofHours(1));
            return this;
        }

        /**
         * @param leaveTimeout how long a graceful leave waits for the commands in progress, 0 to 1 hour
         *                     (default 30 s)
         * @return this builder
         */
        public Builder leaveTimeout(Duration leaveTimeout) {
            this.leaveTimeout = checkDuration("leaveTimeout", leaveTimeout, Duration.ZERO, Duration.ofHours(1));
            return this;
        }

        /**
         * @param maxMessageBytes the largest command or reply on the wire, 1 KiB to 512 MiB (default 8 MiB)
         * @return this builder
         */
        public Builder maxMessageBytes(int maxMessageBytes) {
            if (maxMessageBytes < 1024 || maxMessageBytes > 512 * 1024 * 1024) {
                throw new IllegalArgumentException("maxMessageBytes must be between 1024 and 536870912, but was "
                        + maxMessageBytes);
            }
            this.maxMessageBytes = maxMessageBytes;
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
            this.stackCustomizer = Objects.requireNonNull(customizer, "customizer");
            return this;
        }

        /** @return the bus, connected when its node starts */
        public JGroupsCommandBus build() {
            return new JGroupsCommandBus(this);
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
}
