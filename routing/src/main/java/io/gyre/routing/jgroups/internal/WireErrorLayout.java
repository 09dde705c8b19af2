package io.gyre.routing.jgroups.internal;

import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandOutcomeUnknownException;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.routing.NotOwnerException;
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

/**
 * A {@link WireError} as its bytes lay it out: a kind number, the class name of the failure, its message, two texts
 * and two numbers, the same fields for every kind, which is what members of every version (of this format version)
 * read and write. A reader takes an error by its kind and ignores the fields that kind does not use, and reads a
 * kind it does not know as a handler's failure, which is final: so a new kind of error would be misread by members
 * of earlier versions during a rolling upgrade. A new error either travels under a kind they already read correctly
 * ({@link StoreClosed} does: "not executed" or "outcome unknown", told apart from those by its class name, which they
 * ignore), or waits for a way to learn what a peer reads.
 *
 * @param kind    which error
 * @param type    the class name of the failure
 * @param message the failure's message
 * @param text1   a first detail (aggregate type, command id)
 * @param text2   a second detail (aggregate id)
 * @param number1 a first number (expected sequence, ring version)
 * @param number2 a second number (actual sequence)
 */
record WireErrorLayout(int kind, String type, String message, String text1, String text2, long number1,
                       long number2) {

    static final int CONFLICT = 1;
    static final int NOT_FOUND = 2;
    static final int ALREADY_EXISTS = 3;
    static final int KNOWN = 4;
    static final int HANDLER = 5;
    static final int NOT_EXECUTED = 6;
    static final int OUTCOME_UNKNOWN = 7;
    static final int NOT_OWNER = 8;

    private static final String STORE_CLOSED_TYPE = EventStoreClosedException.class.getName();

    /**
     * @param error an error
     * @return its layout
     */
    static WireErrorLayout of(WireError error) {
        if (error instanceof Conflict c) {
            return new WireErrorLayout(CONFLICT, ConcurrencyConflictException.class.getName(), c.message(),
                    c.aggregateType(), c.aggregateId(), c.expectedSequence(), c.actualSequence());
        }
        if (error instanceof NotOwner n) {
            return new WireErrorLayout(NOT_OWNER, NotOwnerException.class.getName(), n.message(), "", "",
                    n.ringVersion(), 0);
        }
        if (error instanceof NotExecuted n) {
            return new WireErrorLayout(NOT_EXECUTED, CommandNotExecutedException.class.getName(), n.message(),
                    n.commandId(), "", 0, 0);
        }
        if (error instanceof OutcomeUnknown u) {
            return new WireErrorLayout(OUTCOME_UNKNOWN, CommandOutcomeUnknownException.class.getName(), u.message(),
                    u.commandId(), "", 0, 0);
        }
        if (error instanceof StoreClosed s) {
            return new WireErrorLayout(s.mayHaveBeenStored() ? OUTCOME_UNKNOWN : NOT_EXECUTED, STORE_CLOSED_TYPE,
                    s.message(), s.commandId(), "", 0, 0);
        }
        if (error instanceof NotFound n) {
            return new WireErrorLayout(NOT_FOUND, AggregateNotFoundException.class.getName(), n.message(),
                    n.aggregateType(), n.aggregateId(), 0, 0);
        }
        if (error instanceof AlreadyExists a) {
            return new WireErrorLayout(ALREADY_EXISTS, AggregateAlreadyExistsException.class.getName(), a.message(),
                    a.aggregateType(), a.aggregateId(), 0, 0);
        }
        if (error instanceof Known k) {
            return new WireErrorLayout(KNOWN, k.type(), k.message(), "", "", 0, 0);
        }
        Handler h = (Handler) error;
        return new WireErrorLayout(HANDLER, h.type(), h.message(), "", "", 0, 0);
    }

    /** @return the error these fields lay out; an unknown kind is a handler's failure, as every version reads it */
    WireError error() {
        return switch (kind) {
            case CONFLICT -> new Conflict(message, text1, text2, number1, number2);
            case NOT_OWNER -> new NotOwner(message, number1);
            case NOT_EXECUTED -> STORE_CLOSED_TYPE.equals(type) ? new StoreClosed(message, text1, false)
                    : new NotExecuted(message, text1);
            case OUTCOME_UNKNOWN -> STORE_CLOSED_TYPE.equals(type) ? new StoreClosed(message, text1, true)
                    : new OutcomeUnknown(message, text1);
            case NOT_FOUND -> new NotFound(message, text1, text2);
            case ALREADY_EXISTS -> new AlreadyExists(message, text1, text2);
            case KNOWN -> new Known(type, message);
            default -> new Handler(type, message);
        };
    }
}
