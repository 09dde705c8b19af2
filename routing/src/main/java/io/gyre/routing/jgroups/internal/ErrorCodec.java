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
 * <p>The owner's closed event store ({@link EventStoreClosedException}) has no kind of its own: a kind that members
 * of an earlier version do not know is read by them as a final handler failure. It travels as the kind those
 * members already answer it by, "not executed" when nothing of it may have been stored and "outcome unknown" when it
 * may have been, with the command's id, and with the closed exception's class name as its type, which they ignore.
 * A member of this version rebuilds the {@link EventStoreClosedException} from it, {@code mayHaveBeenStored}
 * included, and its gateway answers the caller at once, as for its own closed store; an earlier member answers the
 * same "not executed" or "outcome unknown", only at the command's deadline (its gateway retries either until then,
 * as it retried the plain store failure the closed one used to travel as).
 */
public final class ErrorCodec {

    private static final int CONFLICT = 1;
    private static final int NOT_FOUND = 2;
    private static final int ALREADY_EXISTS = 3;
    private static final int BY_MESSAGE = 4;
    private static final int HANDLER = 5;
    private static final int NOT_EXECUTED = 6;
    private static final int OUTCOME_UNKNOWN = 7;
    private static final int NOT_OWNER = 8;

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
        String type = cause.getClass().getName();
        String message = String.valueOf(cause.getMessage());
        if (cause instanceof ConcurrencyConflictException conflict) {
            return new WireError(CONFLICT, type, message, conflict.stream().aggregateType(), conflict.aggregateId(),
                    conflict.expectedSequence(), conflict.actualSequence());
        }
        if (cause instanceof NotOwnerException notOwner) {
            return new WireError(NOT_OWNER, type, message, "", "", notOwner.ringVersion(), 0);
        }
        if (cause instanceof NoEligibleMemberException) {
            // Only the sender's ring decides that; on the wire it is the member's "not here".
            return new WireError(NOT_OWNER, type, message, "", "", NotOwnerException.UNKNOWN_VERSION, 0);
        }
        if (cause instanceof CommandNotExecutedException notExecuted) {
            return new WireError(NOT_EXECUTED, type, message, notExecuted.commandId(), "", 0, 0);
        }
        if (cause instanceof CommandOutcomeUnknownException unknown) {
            return new WireError(OUTCOME_UNKNOWN, type, message, unknown.commandId(), "", 0, 0);
        }
        if (cause instanceof EventStoreClosedException closed) {
            return storeClosed(closed, commandId);
        }
        if (cause instanceof CommandRefusedException refused) {
            // A refusal decided here earlier, or relayed from another member: the handler's own class and message.
            return new WireError(HANDLER, refused.exceptionType(), refused.refusalMessage(), "", "", 0, 0);
        }
        if (cause instanceof AggregateNotFoundException notFound) {
            return new WireError(NOT_FOUND, type, message, notFound.aggregateType(), notFound.aggregateId(), 0, 0);
        }
        if (cause instanceof AggregateAlreadyExistsException exists) {
            return new WireError(ALREADY_EXISTS, type, message, exists.aggregateType(), exists.aggregateId(), 0, 0);
        }
        if (cause instanceof GyreException) {
            for (Class<?> known : BY_MESSAGE_TYPES.keySet()) {
                if (known.isInstance(cause)) {
                    return new WireError(BY_MESSAGE, known.getName(), message, "", "", 0, 0);
                }
            }
        }
        return new WireError(HANDLER, type, message, "", "", 0, 0);
    }

    /**
     * The closed store in the kinds every member knows (see the class comment): a member of an earlier version reads
     * it as the not executed or outcome unknown it is, under the command's id.
     */
    private static WireError storeClosed(EventStoreClosedException closed, String commandId) {
        return new WireError(closed.mayHaveBeenStored() ? OUTCOME_UNKNOWN : NOT_EXECUTED,
                EventStoreClosedException.class.getName(), String.valueOf(closed.getMessage()), commandId, "", 0, 0);
    }

    /** @return true when a "not executed" or "outcome unknown" error is the owner's closed event store */
    private static boolean isStoreClosed(WireError error) {
        return EventStoreClosedException.class.getName().equals(error.type());
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
        switch (error.kind()) {
            case CONFLICT:
                return new ConcurrencyConflictException(StreamId.of(error.text1(), error.text2()), error.number1(),
                        error.number2());
            case NOT_OWNER:
                return new NotOwnerException(error.message(), error.number1());
            case NOT_EXECUTED:
                if (isStoreClosed(error)) {
                    return new EventStoreClosedException(error.message() + " (the event store of member " + member
                            + ")", null, false);
                }
                return new CommandNotExecutedException(error.message() + " (on member " + member + ")", error.text1());
            case OUTCOME_UNKNOWN:
                if (isStoreClosed(error)) {
                    return new EventStoreClosedException(error.message() + " (the event store of member " + member
                            + ")", null, true);
                }
                return new CommandOutcomeUnknownException(error.message() + " (on member " + member + ")",
                        error.text1());
            case NOT_FOUND:
                return new AggregateNotFoundException(error.text1(), error.text2());
            case ALREADY_EXISTS:
                return new AggregateAlreadyExistsException(error.text1(), error.text2());
            case BY_MESSAGE:
                for (Map.Entry<Class<?>, Function<String, GyreException>> known : BY_MESSAGE_TYPES.entrySet()) {
                    if (known.getKey().getName().equals(error.type())) {
                        return known.getValue().apply(error.message());
                    }
                }
                return new GyreNonTransientException(error.message() + " (" + error.type() + " on member " + member
                        + ")");
            default:
                return new RemoteCommandException(error.type(), error.message(), member);
        }
    }
}
