package io.gyre.routing.jgroups;

import io.gyre.GyreException;
import io.gyre.Metadata;
import io.gyre.command.CommandDispatch;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.Deadline;
import io.gyre.command.LocalCommandBus;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.routing.HandlerNotAvailableException;
import io.gyre.routing.Member;
import io.gyre.routing.MessageTooLargeException;
import io.gyre.routing.NoEligibleMemberException;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.jgroups.internal.BusConfig;
import io.gyre.routing.jgroups.internal.ClusterChannel;
import io.gyre.routing.jgroups.internal.ErrorCodec;
import io.gyre.routing.jgroups.internal.MemberOutbox;
import io.gyre.routing.jgroups.internal.Membership;
import io.gyre.routing.jgroups.internal.OutsiderBudget;
import io.gyre.routing.jgroups.internal.OutboundReply;
import io.gyre.routing.jgroups.internal.PendingRequests;
import io.gyre.routing.jgroups.internal.PendingRequests.Pending;
import io.gyre.routing.jgroups.internal.UnansweredOutsiders;
import io.gyre.routing.jgroups.internal.WireFormat;
import io.gyre.routing.jgroups.internal.WireMessage;
import io.gyre.routing.jgroups.internal.WireMessage.Advertisement;
import io.gyre.routing.jgroups.internal.WireMessage.CommandRequest;
import io.gyre.routing.jgroups.internal.WireMessage.Leaving;
import io.gyre.routing.jgroups.internal.WireMessage.OutsideViewRefusal;
import io.gyre.routing.jgroups.internal.WireMessage.Reply;
import io.gyre.routing.jgroups.internal.WireMessage.SendAgain;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jgroups.Address;
import org.jgroups.View;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What other members send this one: frames are believed only when their sender is in the view (from outside it,
 * only commands are looked at, within a budget, to refuse them as not run), and what they say only from members of
 * the ring.
 * Commands are checked (size, ownership, handler, payload, deadline) and run on the local bus, their outcome queued as a reply in the sender's outbox; replies complete the
 * deliveries they answer, only when they come from the member asked; advertisements (of aggregate types, and of
 * processors under the sender's own ring id) and departures go to the {@link RingKeeper}. Each message that is
 * not believed is counted ({@link JGroupsCommandBus.Distrust}).
 */
final class Inbound {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);
    private final String selfId;
    private final BusConfig config;
    private final Supplier<RingKeeper> keeper;
    private final Supplier<ClusterChannel> channel;
    private final BooleanSupplier running;
    /** Commands from other members running here, until their reply is queued: a leaving member waits for them. */
    private final AtomicInteger unanswered = new AtomicInteger();
    private final Router router;
    private final LocalCommandBus local;
    private final Serializer serializer;
    private final Map<String, Set<String>> hosted;
    private final PendingRequests pending;
    private final Function<Address, @Nullable MemberOutbox> outboxes;
    private final AtomicLong refused;
    private final OutsiderBudget budget = new OutsiderBudget();
    private final UnansweredOutsiders outsiders = new UnansweredOutsiders();
    /** Sends the notices of {@link #outsiders}, off the JGroups threads, since a reliable send may wait. */
    private final Executor notices;
    private final AtomicLong fromOutsideView = new AtomicLong();
    private final AtomicLong refusedFromOutsideView = new AtomicLong();
    private final AtomicLong outsideFramesOverBudget = new AtomicLong();
    private final AtomicLong commandsFromNonMembers = new AtomicLong();
    private final AtomicLong misdirectedReplies = new AtomicLong();
    private final AtomicLong refusedAdvertisements = new AtomicLong();
    private final AtomicLong leavesFromNonMembers = new AtomicLong();

    Inbound(String selfId, BusConfig config, Supplier<RingKeeper> keeper, Supplier<ClusterChannel> channel,
            BooleanSupplier running, Router router, LocalCommandBus local, Serializer serializer,
            Map<String, Set<String>> hosted, PendingRequests pending,
            Function<Address, @Nullable MemberOutbox> outboxes, AtomicLong refused, Executor notices) {
        this.selfId = selfId;
        this.config = config;
        this.keeper = keeper;
        this.channel = channel;
        this.running = running;
        this.router = router;
        this.local = local;
        this.serializer = serializer;
        this.hosted = hosted;
        this.pending = pending;
        this.outboxes = outboxes;
        this.refused = refused;
        this.notices = notices;
    }

    /** @return what this member refused to believe so far */
    JGroupsCommandBus.Distrust distrust() {
        return new JGroupsCommandBus.Distrust(fromOutsideView.get(), refusedFromOutsideView.get(),
                outsideFramesOverBudget.get(), commandsFromNonMembers.get(),
                misdirectedReplies.get(), refusedAdvertisements.get(), leavesFromNonMembers.get());
    }

    private Membership membership() {
        return Objects.requireNonNull(keeper.get().membership(), "not joined");
    }

    void onFrame(Address from, byte[] buffer, int offset, int length) {
        try {
            if (!keeper.get().awaitFirstView(30, TimeUnit.SECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        View view = channel.get().view();
        if (view == null || !view.containsMember(from)) {
            refuseFromOutsideView(from, view, buffer, offset, length);
            return;
        }
        List<WireFormat.Decoded> messages;
        try {
            messages = WireFormat.decode(buffer, offset, length);
        } catch (GyreException e) {
            log.warn("Member {} dropped an unreadable message from {}: {}", selfId, from, e.getMessage());
            return;
        }
        for (WireFormat.Decoded decoded : messages) {
            WireMessage message = decoded.message();
            if (message instanceof CommandRequest request) {
                if (!onRing(from)) {
                    // In the view but not (or no longer) on the ring: a member still joining, or one that never
                    // advertised itself. Its command is not run; a real member retries once its advertisement is in.
                    commandsFromNonMembers.incrementAndGet();
                    reply(from, request, null, new NotOwnerException("Member " + selfId + " runs "
                            + "commands only for members of its ring, and " + from + " is not on it (ring version "
                            + membership().current().version() + "); command " + request.commandId()
                            + " was not run", membership().current().version()));
                    continue;
                }
                onCommand(from, request, decoded.length());
            } else if (message instanceof Reply reply) {
                onReply(from, reply);
            } else if (message instanceof OutsideViewRefusal refusal) {
                onOutsideViewRefusal(from, refusal);
            } else if (message instanceof SendAgain notice) {
                onSendAgain(from, notice);
            } else if (message instanceof Advertisement ad) {
                if (ad.weight() > config.maxMemberWeight()) {
                    refusedAdvertisements.incrementAndGet();
                    log.error("Member {} refused the advertisement of {} ('{}'): weight {} is above the cluster's "
                            + "maxMemberWeight {}", selfId, from, ad.memberId(), ad.weight(),
                            config.maxMemberWeight());
                    continue;
                }
                if (!keeper.get().onAdvertisement(from, ad)) {
                    refusedAdvertisements.incrementAndGet();
                }
            } else if (message instanceof Leaving) {
                if (!onRing(from)) {
                    leavesFromNonMembers.incrementAndGet();
                    continue;
                }
                keeper.get().onLeaving(from);
            } else if (message instanceof WireMessage.AdvertisementRequest) {
                keeper.get().advertiseLater();
            } else if (message instanceof WireMessage.ProcessorsAdvertisement processors) {
                onProcessors(from, processors);
            }
        }
    }

    /**
     * A frame from an address outside this member's view: nothing in it is believed or run. Its commands are refused,
     * though, as transient ("not owner"), not dropped. A newcomer has its view as soon as the coordinator answers its
     * join, before the other members install that view; and a member's transport takes a new view before its channel
     * does, so an advertisement it broadcasts in between reaches the newcomer, which then routes commands to a member
     * that still refuses to hear it. Dropped, those commands would hold their callers until their deadline with no
     * outcome (issue 10); refused, they are re-sent under the same command id once the view has settled. Whatever else
     * the frame holds (advertisements, replies, departures) is dropped: a member asks for the advertisements it
     * misses once its view holds their senders.
     *
     * <p>Such a sender may be no member at all, and the refusals go without flow control, so two bounds hold. What is
     * sent back is never more than what was received: all the commands of a frame are refused by
     * {@link OutsideViewRefusal}s, eight bytes per command (and 26 per refusal of up to
     * {@value OutsideViewRefusal#MAX_REQUEST_IDS} commands) against at least {@value WireFormat#MIN_COMMAND_BYTES}
     * bytes per command received. And what is read at all is bounded by the {@link OutsiderBudget}: past it, a frame
     * is dropped unread and counted. Its sender is remembered ({@link UnansweredOutsiders}), as is one whose commands
     * were refused (the refusal may be lost): should it enter the view (a real newcomer, whose frames a few outsiders
     * flooding the shared budget crowded out), it is told, and sends again what it waits on from this member;
     * otherwise those commands would wait for their deadline.
     */
    private void refuseFromOutsideView(Address from, @Nullable View view, byte[] buffer, int offset, int length) {
        fromOutsideView.incrementAndGet();
        if (!budget.admit(from, length)) {
            if (outsideFramesOverBudget.incrementAndGet() % 1000 == 1) {
                log.warn("Member {} dropped a frame from {}, which is not in its view, unread: that address (or all "
                        + "addresses outside the view together) sent more than {} KiB/s after a burst of {} KiB; a "
                        + "member still joining sends far less", selfId, from,
                        OutsiderBudget.SENDER_BYTES_PER_SECOND / 1024, OutsiderBudget.SENDER_BURST_BYTES / 1024);
            }
            rememberUnanswered(from);
            return;
        }
        List<WireFormat.Decoded> messages;
        try {
            messages = WireFormat.decode(buffer, offset, length);
        } catch (GyreException e) {
            return;
        }
        List<Long> requestIds = new ArrayList<>();
        for (WireFormat.Decoded decoded : messages) {
            if (decoded.message() instanceof CommandRequest request) {
                requestIds.add(request.requestId());
            }
        }
        if (requestIds.isEmpty()) {
            return;
        }
        long before = refusedFromOutsideView.getAndAdd(requestIds.size());
        if (before == 0 || before / 10_000 != (before + requestIds.size()) / 10_000) {
            log.warn("Member {} refused commands from {}, which is not in its view {} (a member still joining, or "
                    + "one excluded from the view), as not run", selfId, from, view == null ? "(none yet)"
                    : view.getViewId());
        }
        long version = membership().current().version();
        long viewId = view == null ? -1 : view.getViewId().getId();
        for (int at = 0; at < requestIds.size(); at += OutsideViewRefusal.MAX_REQUEST_IDS) {
            List<Long> some = requestIds.subList(at, Math.min(requestIds.size(),
                    at + OutsideViewRefusal.MAX_REQUEST_IDS));
            // A frame of its own: a member of an older version drops only it.
            sendRefusals(from, WireFormat.encode(new OutsideViewRefusal(version, viewId, some)));
        }
        // Sent once and unreliably, the refusal may never arrive: the sender is told again once in the view.
        rememberUnanswered(from);
    }

    private void rememberUnanswered(Address from) {
        if (outsiders.unanswered(from, () -> channel.get().view())) {
            // Its view arrived while this frame was judged: the view change has passed it by, so tell it here.
            View now = channel.get().view();
            tellLater(List.of(from), now == null ? -1 : now.getViewId().getId());
        }
    }

    /**
     * Tells the members that enter the view and whose commands sent from outside it were left here without a sure
     * answer ({@link UnansweredOutsiders}) to send again: called for every view, after the channel has installed it.
     *
     * @param view the new view
     */
    void onView(View view) {
        List<Address> tell = outsiders.onView(view, channel.get().address());
        if (!tell.isEmpty()) {
            tellLater(tell, view.getViewId().getId());
        }
    }

    /**
     * Sends each a {@link SendAgain}, reliably (a lost one would leave its commands to their deadline), in a frame
     * of its own (a member of an older version drops just that frame, as an unknown kind, and waits as it did
     * before), on the notices' thread: a reliable send may wait for flow control, which a JGroups thread must not.
     */
    private void tellLater(List<Address> members, long viewId) {
        byte[] frame = WireFormat.encode(new SendAgain(viewId));
        try {
            notices.execute(() -> {
                for (Address member : members) {
                    try {
                        channel.get().send(member, frame);
                        log.info("Member {} told {}, now in its view {}, to send again what it waits on: it had "
                                + "dropped or refused frames from it while it was outside the view", selfId, member,
                                viewId);
                    } catch (Exception e) {
                        log.debug("Member {} could not tell {} to send again: {}", selfId, member, e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("Member {} is closing: {} not told to send again", selfId, members);
        }
    }

    /**
     * A member dropped frames from this one unread, or refused their commands with a refusal that may be lost, while
     * this one was outside its view: some of the commands sent to it may never be answered before their deadline.
     * Which ones is unknown (the member did not read them all), so every command still waiting on it ends, as
     * {@link CommandOutcomeUnknownException} (transient: the delivery may be running there) or, when it has no handler
     * there, as {@link CommandNotExecutedException}: its gateway sends it again under the same command id, and the
     * owner runs it if it never did, or answers with its stored decision if it did (a re-send never runs a command
     * twice, and a possibly-run command is never reported "not executed"). Not a plain transient failure: a gateway
     * with no attempt left (or a caller of the bus itself) hands this one to its caller as it is, and it must then say
     * that the command may have run, or the caller may send it again under a new id (SendAgainNoticeReviewTest). A
     * refusal of the earlier delivery that comes later finds it ended and is ignored. Commands the member read after
     * taking this one in are sent again too, for nothing but a look-up in the store: the price of not knowing.
     */
    private void onSendAgain(Address from, SendAgain notice) {
        AtomicInteger resent = new AtomicInteger();
        pending.failIf(request -> request.target().equals(from), request -> {
            resent.incrementAndGet();
            CommandMessage command = request.dispatch().command();
            String why = "Member " + request.member() + " dropped or refused frames from member " + selfId + " while "
                    + selfId + " was outside its view (before view " + notice.viewId() + "), and " + command;
            return request.runnable()
                    ? new CommandOutcomeUnknownException(why + " may be running there; a gateway with attempts left "
                    + "sends it again under its command id", command.commandId())
                    : new CommandNotExecutedException(why + " has no handler there; a gateway with attempts left sends "
                    + "it again under its command id", command.commandId());
        });
        if (resent.get() > 0) {
            log.info("Member {} sends {} commands again to {}, which had dropped or refused frames from it while it "
                    + "was outside its view", selfId, resent.get(), from);
        }
    }

    private void sendRefusals(Address to, byte[] frame) {
        try {
            // Not through an outbox: those are for members of the view, and closed for any other address. Sent once:
            // an address that never acknowledges must not get it again every retransmission interval.
            channel.get().sendOnceWithoutWaiting(to, frame);
        } catch (Exception e) {
            log.debug("Member {} could not refuse commands from {}: {}", selfId, to, e.toString());
        }
    }

    /**
     * Commands this member sent to one that had not installed a view holding this member yet: each fails its attempt
     * as not run and transient, to be sent again, when the refusal comes from the member it was sent to.
     */
    private void onOutsideViewRefusal(Address from, OutsideViewRefusal refusal) {
        for (long requestId : refusal.requestIds()) {
            Pending expected = pending.get(requestId);
            if (expected == null) {
                continue;
            }
            if (!expected.target().equals(from)) {
                misdirected("Refusal of", requestId, from, expected.target());
                continue;
            }
            Pending request = pending.take(requestId);
            if (request != null) {
                request.dispatch().failNotRun(ErrorCodec.notInView(refusal, request.member(), selfId,
                        request.dispatch().command().commandId()));
            }
        }
        if (refusal.ringVersion() != membership().current().version()) {
            // The refusing member's ring differs from this member's: make sure neither misses an advertisement.
            keeper.get().reconcileLater();
        }
    }

    /**
     * Believes the processors of a member of the ring only under its own ring id: a member still joining (or one
     * that never advertised itself) is asked to advertise, which sends both advertisements again in order.
     */
    private void onProcessors(Address from, WireMessage.ProcessorsAdvertisement processors) {
        Advertisement ad = membership().advertisementOf(from);
        if (ad == null || !onRing(from)) {
            refusedAdvertisements.incrementAndGet();
            log.debug("Member {} ignored the processors of {}, which is not on its ring yet", selfId, from);
            keeper.get().reconcileLater();
            return;
        }
        if (!ad.memberId().equals(processors.memberId())) {
            refusedAdvertisements.incrementAndGet();
            log.error("Member {} refused the processors advertised by {} under the id '{}': it is on the ring as "
                    + "'{}'", selfId, from, processors.memberId(), ad.memberId());
            return;
        }
        Member member = new Member(ad.memberId(), ad.weight(), Set.of());
        String problem = keeper.get().processors().onAdvertisement(from, member, processors);
        if (problem != null) {
            refusedAdvertisements.incrementAndGet();
            log.error("Member {} refused the processors advertised by {} ('{}'): {}", selfId, from, ad.memberId(),
                    problem);
        }
    }

    /** @return true when an address belongs to a member of the current ring */
    private boolean onRing(Address address) {
        return membership().current().addresses().containsValue(address);
    }

    private void onCommand(Address from, CommandRequest request, int size) {
        if (size > config.maxMessageBytes()) {
            reply(from, request, null, new MessageTooLargeException("A command of " + size + " bytes "
                    + "reached member " + selfId + ", over its limit of " + config.maxMessageBytes() + " bytes"));
            return;
        }
        Membership.Snapshot snapshot = membership().current();
        if (!running.getAsBoolean()) {
            refused.incrementAndGet();
            reply(from, request, null, new NotOwnerException("Member " + selfId + " is leaving; "
                    + "command " + request.commandId() + " for '" + request.routingKey() + "' was not run",
                    snapshot.version()));
            return;
        }
        CommandMessage command;
        try {
            Member owner = router.ownerOf(snapshot, request.routingKey(), request.aggregateType());
            if (!owner.id().equals(selfId)) {
                refused.incrementAndGet();
                if (request.ringVersion() > snapshot.version()) {
                    // The sender's ring is newer than this member's: this one may have missed an advertisement.
                    keeper.get().reconcileLater();
                }
                throw new NotOwnerException("Member " + selfId + " does not own " + request.aggregateType() + " '"
                        + request.routingKey() + "' in ring version " + snapshot.version() + " (owner: " + owner.id()
                        + "; sender's ring version " + request.ringVersion() + ")", snapshot.version());
            }
            Set<String> handled = hosted.get(request.aggregateType());
            if (handled == null || !handled.contains(request.commandType())) {
                throw noHandlerHere(request);
            }
            Serializer wire = serializer;
            Object payload = wire.deserialize(new SerializedValue(request.commandType(), request.payload()));
            Metadata metadata = wire.deserializeMetadata(request.metadata());
            String key = CommandMessage.targetAggregateIdOf(payload);
            if (!key.equals(request.routingKey())) {
                throw new MissingTargetAggregateIdException("Command " + request.commandId() + " was routed as '"
                        + request.routingKey() + "' but targets '" + key + "'; refused");
            }
            command = new CommandMessage(request.commandId(), payload, key, metadata, Math.max(1, request.attempt()),
                    request.callerChosenId(), Deadline.afterNanos(request.remainingNanos()));
            if (command.isLate()) {
                throw new CommandNotExecutedException(command + " reached member " + selfId + " after its deadline "
                        + "and was dropped unrun", request.commandId());
            }
        } catch (GyreException e) {
            reply(from, request, null, e);
            return;
        } catch (RuntimeException e) {
            reply(from, request, null, new SerializationException("Command " + request.commandId()
                    + " from " + from + " is malformed: " + e.getMessage(), e));
            return;
        }
        unanswered.incrementAndGet();
        try {
            local.dispatch(command, router::checkStillOwner).whenComplete((result, failure) -> {
                try {
                    reply(from, request, result, failure);
                } finally {
                    unanswered.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            unanswered.decrementAndGet();
            throw e;
        }
    }

    /**
     * Why this member, the aggregate's owner, does not run a command it has no handler for. Another member handles
     * the type: a rolling upgrade, transient. No member it knows of does, but it has not heard from every member of
     * its view, or the sender's view is newer than its own: transient too, since the sender may know an upgraded
     * member this one has not taken in yet (and the missing members are asked to advertise). Only when it knows
     * every advertisement the sender's ring can be built on, and none names the type, is the refusal final: a
     * command type no member handles, which only a peer that is no Gyre member of this cluster sends.
     */
    private GyreException noHandlerHere(CommandRequest request) {
        Membership known = membership();
        if (!known.handlersOf(request.aggregateType(), request.commandType()).isEmpty()) {
            return router.handlerNotAvailable(request.aggregateType(), request.commandType(), request.routingKey());
        }
        String lag = known.lagBehind(request.ringVersion());
        if (lag != null) {
            keeper.get().reconcileLater();
            return new HandlerNotAvailableException("Member " + selfId + " owns " + request.aggregateType() + " '"
                    + request.routingKey() + "' and knows no member that handles " + request.commandType()
                    + ", but cannot rule one out: " + lag + "; command " + request.commandId() + " was not run");
        }
        return new NoHandlerForCommandException("No member of cluster '" + config.cluster() + "' handles command "
                + "type '" + request.commandType() + "' for aggregate type " + request.aggregateType() + "; command "
                + request.commandId() + " was refused");
    }

    /** @return commands from other members taken here whose reply is not queued for sending yet */
    int unansweredCommands() {
        return unanswered.get();
    }

    private void reply(Address to, CommandRequest request, @Nullable Object result, @Nullable Throwable failure) {
        MemberOutbox outbox = outboxes.apply(to);
        if (outbox == null || !outbox.offer(new OutboundReply(request.requestId(), request.commandId(), result,
                failure, serializer, outbox))) {
            log.debug("Reply {} to {} not sent: the member left", request.requestId(), to);
        }
    }

    /**
     * Counts an answer from another member than the one asked, and logs the first of every thousand: a peer in the
     * view can name every request id in a frame (10,000 replies, or refusals of 4,000 ids each), and a warning per
     * id would let it flood the log.
     */
    private void misdirected(String what, long requestId, Address from, Address expected) {
        long count = misdirectedReplies.incrementAndGet();
        if (count % 1000 == 1) {
            log.warn("{} request {} came from {} instead of {}; ignored ({} such answers so far)", what,
                    requestId, from, expected, count);
        }
    }

    private void onReply(Address from, Reply reply) {
        Pending expected = pending.get(reply.requestId());
        if (expected == null) {
            return;
        }
        if (!expected.target().equals(from)) {
            misdirected("Reply to", reply.requestId(), from, expected.target());
            return;
        }
        Pending request = pending.take(reply.requestId());
        if (request == null) {
            return;
        }
        CommandDispatch dispatch = request.dispatch();
        WireMessage.WireError error = reply.error();
        SerializedValue result = reply.result();
        try {
            if (error == null) {
                dispatch.complete(result == null ? null : serializer.deserialize(result));
                return;
            }
            RuntimeException failure = ErrorCodec.decode(error, request.member());
            if (failure instanceof NoHandlerForCommandException) {
                failure = router.noHandlerAt(request.member(), dispatch.command(),
                        serializer.types().nameOf(dispatch.command().payloadType()), failure);
            }
            if (failure instanceof NotOwnerException notOwner && notOwner.ringVersion() != NotOwnerException
                    .UNKNOWN_VERSION && notOwner.ringVersion() != membership().current().version()) {
                // The owner's ring differs from this member's: make sure neither misses an advertisement.
                keeper.get().reconcileLater();
            }
            if (failure instanceof NotOwnerException || failure instanceof CommandNotExecutedException
                    || failure instanceof MessageTooLargeException || failure instanceof HandlerNotAvailableException
                    || failure instanceof NoEligibleMemberException
                    || failure instanceof EventStoreClosedException closed && !closed.mayHaveBeenStored()) {
                // The member refused it before running it, or its closed store says nothing of it was stored: nothing
                // of it was stored there.
                dispatch.failNotRun(failure);
            } else {
                dispatch.completeExceptionally(failure);
            }
        } catch (RuntimeException e) {
            dispatch.completeExceptionally(e);
        }
    }

}
