package io.gyre.routing.jgroups.internal;

import io.gyre.GyreException;
import io.gyre.GyreNonTransientException;
import io.gyre.GyreTransientException;
import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateDefinitionException;
import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.command.CommandRefusedException;
import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.NoHandlerForCommandException;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventRejectedException;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.StreamId;
import io.gyre.routing.MemberLeftException;
import io.gyre.routing.MessageTooLargeException;
import io.gyre.routing.HandlerNotAvailableException;
import io.gyre.routing.NoEligibleMemberException;
import io.gyre.routing.NotOwnerException;
import io.gyre.routing.RemoteCommandException;
import io.gyre.routing.jgroups.internal.WireMessage.WireError;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.AlreadyExists;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.Conflict;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.Handler;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.Known;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.NotExecuted;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.NotFound;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.NotOwner;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.OutcomeUnknown;
import io.gyre.routing.jgroups.internal.WireMessage.WireError.StoreClosed;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.UnregisteredTypeException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Sends failures across the cluster so that the caller sees the same exception type, transient or not, as on a
 * single node. Gyre's own exceptions are rebuilt by an explicit table (never by a class name read from the
 * wire); an unknown Gyre exception becomes its nearest known superclass; an application exception thrown by a
 * handler becomes a {@link RemoteCommandException} with its class name and message. Internal: not part of
 * Gyre's API.
 *
 * <p>The owner's closed event store ({@link EventStoreClosedException}) travels as a {@link StoreClosed}, with
 * {@code mayHaveBeenStored} and the command's id: a member of this version rebuilds the closed exception, and its
 * gateway answers the caller at once, as for its own closed store. A member of an earlier version reads it as the
 * "not executed" or "outcome unknown" it is, under the command's id ({@link WireErrorLayout} says how), and answers
 * the same, only at the command's deadline: its gateway retries either until then, as it retried the plain store
 * failure the closed one used to travel as.
 */
public final class ErrorCodec {

    /** Gyre exceptions rebuilt from their message, most specific first. */
    private static final Map<Class<?>, Function<String, GyreException>> BY_MESSAGE_TYPES = new LinkedHashMap<>();

    static {
        BY_MESSAGE_TYPES.put(HandlerNotAvailableException.class, HandlerNotAvailableException::new);
        BY_MESSAGE_TYPES.put(MemberLeftException.class, MemberLeftException::new);
        BY_MESSAGE_TYPES.put(MessageTooLargeException.class, MessageTooLargeException::new);
        BY_MESSAGE_TYPES.put(NoHandlerForCommandException.class, NoHandlerForCommandException::new);
        BY_MESSAGE_TYPES.put(MissingTargetAggregateIdException.class, MissingTargetAggregateIdException::new);
        BY_MESSAGE_TYPES.put(UnregisteredTypeException.class, UnregisteredTypeException::new);
        BY_MESSAGE_TYPES.put(SerializationException.class, message -> new SerializationException(message, null));
        BY_MESSAGE_TYPES.put(AggregateDefinitionException.class, AggregateDefinitionException::new);
        BY_MESSAGE_TYPES.put(AggregateLifecycleException.class, AggregateLifecycleException::new);
        // Another member's closed bus means that member is going away: for this member it is a member that left, to
        // re-route, not a reason to stop (its own closed bus is).
        BY_MESSAGE_TYPES.put(CommandBusClosedException.class, MemberLeftException::new);
        BY_MESSAGE_TYPES.put(EventRejectedException.class, message -> new EventRejectedException(message, null));
        BY_MESSAGE_TYPES.put(EventStoreException.class, message -> new EventStoreException(message, null));
        BY_MESSAGE_TYPES.put(GyreTransientException.class, GyreTransientException::new);
        BY_MESSAGE_TYPES.put(GyreNonTransientException.class, GyreNonTransientException::new);
    }

    private ErrorCodec() {
    }

    /**
     * @param failure   a command's failure on this member
     * @param commandId the id of the command it ended: a failure that does not name its command (the closed store)
     *                  travels with it
     * @return its wire form
     */
    public static WireError encode(Throwable failure, String commandId) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        String message = String.valueOf(cause.getMessage());
        if (cause instanceof ConcurrencyConflictException conflict) {
            return new Conflict(message, conflict.stream().aggregateType(), conflict.aggregateId(),
                    conflict.expectedSequence(), conflict.actualSequence());
        }
        if (cause instanceof NotOwnerException notOwner) {
            return new NotOwner(message, notOwner.ringVersion());
        }
        if (cause instanceof NoEligibleMemberException) {
            // Only the sender's ring decides that; on the wire it is the member's "not here".
            return new NotOwner(message, NotOwnerException.UNKNOWN_VERSION);
        }
        if (cause instanceof CommandNotExecutedException notExecuted) {
            return new NotExecuted(message, notExecuted.commandId());
        }
        if (cause instanceof CommandOutcomeUnknownException unknown) {
            return new OutcomeUnknown(message, unknown.commandId());
        }
        if (cause instanceof EventStoreClosedException closed) {
            // The closed exception does not name its command: the command's id travels with it.
            return new StoreClosed(message, commandId, closed.mayHaveBeenStored());
        }
        if (cause instanceof CommandRefusedException refused) {
            // A refusal decided here earlier, or relayed from another member: the handler's own class and message.
            return new Handler(refused.exceptionType(), refused.refusalMessage());
        }
        if (cause instanceof AggregateNotFoundException notFound) {
            return new NotFound(message, notFound.aggregateType(), notFound.aggregateId());
        }
        if (cause instanceof AggregateAlreadyExistsException exists) {
            return new AlreadyExists(message, exists.aggregateType(), exists.aggregateId());
        }
        if (cause instanceof GyreException) {
            for (Class<?> known : BY_MESSAGE_TYPES.keySet()) {
                if (known.isInstance(cause)) {
                    return new Known(known.getName(), message);
                }
            }
        }
        return new Handler(cause.getClass().getName(), message);
    }

    /**
     * The failure a command gets when a member refused it because this member was not in its view yet: transient, for
     * the command to be sent again once the view has settled.
     *
     * @param refusal   the refusal that named the command
     * @param member    the member that refused it
     * @param self      this member's id
     * @param commandId the refused command's id
     * @return the exception to fail the command's attempt with
     */
    public static NotOwnerException notInView(WireMessage.OutsideViewRefusal refusal, String member, String self,
            String commandId) {
        return new NotOwnerException("Member " + member + " runs commands only for members of its view, and member "
                + self + " is not in its view " + (refusal.viewId() < 0 ? "(none yet)" : refusal.viewId()) + " yet; "
                + "command " + commandId + " was not run", refusal.ringVersion());
    }

    /**
     * @param error  a failure in wire form
     * @param member the member it came from
     * @return the exception to complete the caller's future with
     */
    public static RuntimeException decode(WireError error, String member) {
        if (error instanceof Conflict c) {
            return new ConcurrencyConflictException(StreamId.of(c.aggregateType(), c.aggregateId()),
                    c.expectedSequence(), c.actualSequence());
        }
        if (error instanceof NotOwner n) {
            return new NotOwnerException(n.message(), n.ringVersion());
        }
        if (error instanceof NotExecuted n) {
            return new CommandNotExecutedException(n.message() + " (on member " + member + ")", n.commandId());
        }
        if (error instanceof OutcomeUnknown u) {
            return new CommandOutcomeUnknownException(u.message() + " (on member " + member + ")", u.commandId());
        }
        if (error instanceof StoreClosed closed) {
            return new EventStoreClosedException(closed.message() + " (the event store of member " + member + ")",
                    null, closed.mayHaveBeenStored());
        }
        if (error instanceof NotFound n) {
            return new AggregateNotFoundException(n.aggregateType(), n.aggregateId());
        }
        if (error instanceof AlreadyExists a) {
            return new AggregateAlreadyExistsException(a.aggregateType(), a.aggregateId());
        }
        if (error instanceof Known k) {
            for (Map.Entry<Class<?>, Function<String, GyreException>> known : BY_MESSAGE_TYPES.entrySet()) {
                if (known.getKey().getName().equals(k.type())) {
                    return known.getValue().apply(k.message());
                }
            }
            return new GyreNonTransientException(k.message() + " (" + k.type() + " on member " + member + ")");
        }
        Handler h = (Handler) error;
        return new RemoteCommandException(h.type(), h.message(), member);
    }
}
