package io.gyre.routing.jgroups;

import io.gyre.command.CommandMessage;
import io.gyre.command.LocalCommandBus;
import io.gyre.routing.HandlerNotAvailableException;
import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.NoEligibleMemberException;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.jgroups.internal.Membership;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who owns a command's aggregate, over one ring snapshot: ownership is per aggregate type, never per command type,
 * so every command for one aggregate goes to its one owner. Also the fence: right before a command runs, this
 * member must still own its aggregate in its current ring.
 */
final class Router {

    private static final Logger log = LoggerFactory.getLogger(JGroupsCommandBus.class);

    private final String selfId;
    private final LocalCommandBus local;
    private final Supplier<@Nullable Membership> membership;
    private final BooleanSupplier running;
    private final AtomicLong refused;
    private final Set<String> upgradesLogged = ConcurrentHashMap.newKeySet();

    /**
     * @param selfId     this member's id
     * @param local      this node's handlers
     * @param membership the membership, null before the first view
     * @param running    whether the member still runs commands (false while leaving)
     * @param refused    counts commands refused because this member did not own them
     */
    Router(String selfId, LocalCommandBus local, Supplier<@Nullable Membership> membership, BooleanSupplier running,
           AtomicLong refused) {
        this.selfId = selfId;
        this.local = local;
        this.membership = membership;
        this.running = running;
        this.refused = refused;
    }

    /**
     * The aggregate type a command targets: this node's own when it handles the command, else the one the members
     * that handle it advertise.
     *
     * @throws NoEligibleMemberException (transient) when no member handles the command type yet
     */
    String aggregateTypeOf(Class<?> payloadType, String commandType, Membership.Snapshot snapshot) {
        String own = local.aggregateTypeOf(payloadType);
        if (own != null) {
            return own;
        }
        String advertised = snapshot.aggregateOf(commandType);
        if (advertised == null) {
            HashRing ring = snapshot.ring();
            throw NoEligibleMemberException.forCommandType(commandType, snapshot.version(),
                    ring == null ? List.of() : ring.members());
        }
        return advertised;
    }

    /**
     * @throws NoEligibleMemberException (transient) when no member hosts the aggregate type
     */
    Member ownerOf(Membership.Snapshot snapshot, String key, String aggregateType) {
        HashRing ring = snapshot.ring();
        if (ring == null) {
            throw new NoEligibleMemberException(aggregateType, snapshot.version(), List.of());
        }
        return ring.owner(key, aggregateType);
    }

    /**
     * This member owns the aggregate but has no handler for the command, which another member has: a rolling
     * upgrade. Transient, and logged once per command type.
     */
    HandlerNotAvailableException handlerNotAvailable(String aggregateType, String commandType, String key) {
        Membership current = Objects.requireNonNull(membership.get(), "not joined");
        List<String> handlers = current.handlersOf(aggregateType, commandType);
        if (upgradesLogged.add(commandType)) {
            log.warn("Member {} owns aggregates of type {} but has no handler for {}, which members {} handle: a "
                    + "rolling upgrade is in progress; such commands wait (until their deadline) for this member to "
                    + "be upgraded or for ownership to move", selfId, aggregateType, commandType, handlers);
        }
        return new HandlerNotAvailableException("Member " + selfId + " owns " + aggregateType + " '" + key
                + "' but has no handler for " + commandType + " yet (members " + handlers + " have one): a rolling "
                + "upgrade is in progress; the command was not run");
    }

    /**
     * What a refusal "no member handles the command type" from the owner of a command's aggregate means here. This
     * member routed the command only because it knew a member that handles the type (itself, or one on its ring),
     * and the owner knew none: the two have taken in different memberships, and either may be behind (the owner may
     * not have heard from an upgraded member yet, or this member may not have seen that member leave). So the
     * refusal is never final here; an owner of this version answers so only to a sender whose ring it cannot have
     * missed anything of, but an older one judges on whatever advertisements it holds.
     *
     * @param owner       the member that refused
     * @param command     the command it refused
     * @param commandType the command's registered type name
     * @param refusal     its refusal
     * @return transient: {@link HandlerNotAvailableException} while this member knows a handler, else the
     *         {@link NoEligibleMemberException} its own routing would give
     */
    RuntimeException noHandlerAt(String owner, CommandMessage command, String commandType, RuntimeException refusal) {
        Membership current = Objects.requireNonNull(membership.get(), "not joined");
        Membership.Snapshot snapshot = current.current();
        String own = local.aggregateTypeOf(command.payloadType());
        String aggregateType = own != null ? own : snapshot.aggregateOf(commandType);
        if (aggregateType == null) {
            HashRing ring = snapshot.ring();
            return NoEligibleMemberException.forCommandType(commandType, snapshot.version(),
                    ring == null ? List.of() : ring.members());
        }
        return new HandlerNotAvailableException("Member " + owner + " owns the aggregate of " + command + " and "
                + "knows no member that handles " + commandType + ", while member " + selfId + " knows "
                + current.handlersOf(aggregateType, commandType) + ": their memberships differ while they settle; "
                + "the command was not run (" + refusal.getMessage() + ")");
    }

    /**
     * The fence, run on the worker thread right before the handler, after every earlier command of the aggregate:
     * only the current owner may run a command.
     *
     * @throws NotOwnerException when this member is leaving or does not own the aggregate in its current ring
     */
    void checkStillOwner(CommandMessage command) {
        Membership current = membership.get();
        if (!running.getAsBoolean() || current == null) {
            refused.incrementAndGet();
            throw new NotOwnerException("Member " + selfId + " is leaving and no longer runs " + command);
        }
        Membership.Snapshot snapshot = current.current();
        String aggregateType = Objects.requireNonNull(local.aggregateTypeOf(command.payloadType()));
        Member owner = ownerOf(snapshot, command.routingKey(), aggregateType);
        if (!owner.id().equals(selfId)) {
            refused.incrementAndGet();
            throw new NotOwnerException("Member " + selfId + " does not own " + aggregateType + " '"
                    + command.routingKey() + "' in ring version " + snapshot.version() + " (owner: " + owner.id()
                    + "); " + command + " was not run", snapshot.version());
        }
    }
}
