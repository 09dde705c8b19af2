package io.gyre.routing.jgroups.internal;

import io.gyre.serialization.SerializedValue;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** What members of a Gyre cluster say to each other. Internal: not part of Gyre's API. */
public sealed interface WireMessage {

    /**
     * A command routed to its owner; sent by the member that dispatched it, answered with a {@link Reply}.
     *
     * @param requestId      the sender's id for matching the reply
     * @param ringVersion    the sender's ring version when it routed the command
     * @param aggregateType  the type name of the target aggregate, whose ring the sender routed by
     * @param commandId      the command id, the same in every attempt
     * @param attempt        the attempt number
     * @param callerChosenId whether the caller chose the command id
     * @param remainingNanos the time left until the command's deadline when it was sent (the members' clocks need
     *                       not agree); the receiver drops the command unrun once that much time has passed
     * @param commandType    the registered type name of the payload
     * @param routingKey     the target aggregate id
     * @param metadata       the metadata as JSON
     * @param payload        the command as JSON
     */
    record CommandRequest(long requestId, long ringVersion, String aggregateType, String commandId, int attempt,
                          boolean callerChosenId, long remainingNanos, String commandType, String routingKey,
                          String metadata, String payload)
            implements WireMessage {
    }

    /**
     * The outcome of a command, sent by its owner to the member that sent the {@link CommandRequest}: a result
     * (possibly null) or an error.
     *
     * @param requestId the request answered
     * @param result    the handler's result when it succeeded and returned one
     * @param error     the failure, or null on success
     */
    record Reply(long requestId, @Nullable SerializedValue result, @Nullable WireError error) implements WireMessage {
    }

    /**
     * Commands a member did not run because their sender is not in its view (a newcomer whose view arrived before
     * this member's): sent by that member straight back to the sender, in a frame of its own, in place of one
     * {@link Reply} per command; not answered. The sender takes each as a transient "not owner" and re-sends the
     * command under the same command id once the view has settled. Eight bytes per refused command, against at least
     * {@value WireFormat#MIN_COMMAND_BYTES} for the command itself: what a member sends to an address outside its view
     * is never more than what it received from there.
     *
     * @param ringVersion the refusing member's ring version
     * @param viewId      the number of the refusing member's view, or -1 before it has one
     * @param requestIds  the sender's request ids of the refused commands, 1 to {@value #MAX_REQUEST_IDS}
     */
    record OutsideViewRefusal(long ringVersion, long viewId, List<Long> requestIds) implements WireMessage {

        /** The most request ids one refusal holds: about 32 KiB, well under any frame limit. */
        public static final int MAX_REQUEST_IDS = 4000;

        /** Copies the ids and checks their count. */
        public OutsideViewRefusal {
            requestIds = List.copyOf(requestIds);
            if (requestIds.isEmpty() || requestIds.size() > MAX_REQUEST_IDS) {
                throw new IllegalArgumentException("a refusal names 1 to " + MAX_REQUEST_IDS + " requests, not "
                        + requestIds.size());
            }
        }
    }

    /**
     * Commands the receiver sent while outside the sender's view were left without a sure answer there: dropped unread
     * (past the budget for such frames, {@link OutsiderBudget}), or refused by an {@link OutsideViewRefusal}, which is
     * sent once and may be lost. Sent by that member once its view holds the receiver, reliably, in a frame of its own
     * (a member of an older version drops only this frame, as an unknown kind); not answered. The receiver cannot know
     * which of its commands those were, so it ends every command it still waits on from the sender as transient and
     * possibly run, and its gateway sends each again under the same command id: one never read then runs, one that
     * was read and ran (or is running) is answered with its stored decision. Only a member of the sender's view gets
     * it, once per stay outside the view, so an address made up outside the view can never draw one.
     *
     * @param viewId the number of the sender's view that holds the receiver
     */
    record SendAgain(long viewId) implements WireMessage {
    }

    /**
     * A member's description of itself, sent to every member on joining, on every view change, and when its
     * capabilities change; not answered.
     *
     * @param memberId the member's stable id
     * @param weight   its share of keys relative to other members
     * @param hosted   the aggregate types it hosts, each with the names of the command types it handles for it
     */
    record Advertisement(String memberId, int weight, Map<String, Set<String>> hosted) implements WireMessage {

        /** Copies the types, in name order, so that every member reads the same advertisement the same way. */
        public Advertisement {
            java.util.TreeMap<String, Set<String>> copy = new java.util.TreeMap<>();
            hosted.forEach((type, commands) -> copy.put(type, java.util.Collections.unmodifiableSortedSet(
                    new java.util.TreeSet<>(commands))));
            hosted = java.util.Collections.unmodifiableSortedMap(copy);
        }
    }

    /**
     * The tracking processors a member runs, sent to every member after its {@link Advertisement} (in a frame of its
     * own, so that a member of an older version drops only this frame) by a member that has run a processor, and
     * again whenever that set changes; not answered. Believed only from a member of the ring, under its ring id.
     *
     * @param memberId    the member's id, the same as in its advertisement
     * @param incarnation the newest member start (in seconds since 2025) this member has heard of, or learned from
     *                    the token store: the top part of segment epochs, so that a cluster started again outranks
     *                    the epochs stored by the last one
     * @param version     how many times this member changed its set of processors, from 1; never decreases
     * @param processors  each processor it runs, with its segment count
     */
    record ProcessorsAdvertisement(String memberId, long incarnation, long version, Map<String, Integer> processors)
            implements WireMessage {

        /** Copies the processors, in name order, so that every member reads the advertisement the same way. */
        public ProcessorsAdvertisement {
            processors = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(processors));
        }
    }

    /**
     * Asks a member to send its {@link Advertisement} again, to everyone: sent by a member whose view holds a
     * member it has no advertisement from, or that learned its ring disagrees with a peer's; not answered otherwise.
     *
     * @param memberId the asking member's id
     */
    record AdvertisementRequest(String memberId) implements WireMessage {
    }

    /**
     * A member is leaving gracefully and takes no more commands; sent to every member, not answered.
     *
     * @param memberId the member's id
     */
    record Leaving(String memberId) implements WireMessage {
    }

    /**
     * Why a command failed, in a {@link Reply} from the member the command was sent to (its owner, or a member that
     * refused it) to the member that sent it; not answered. One record per kind of failure, each carrying what the
     * sender needs to rebuild its exception (see {@code ErrorCodec}); how each is laid out in bytes, which members of
     * every version share, is {@code WireErrorLayout}'s.
     */
    sealed interface WireError {

        /** @return the failure's message, as the member that sent it wrote it */
        String message();

        /**
         * The command was decided on a stream head the store had moved past.
         *
         * @param message          the failure's message
         * @param aggregateType    the stream's aggregate type
         * @param aggregateId      the stream's aggregate id
         * @param expectedSequence the sequence the append expected
         * @param actualSequence   the stream's sequence the store found
         */
        record Conflict(String message, String aggregateType, String aggregateId, long expectedSequence,
                        long actualSequence) implements WireError {
        }

        /**
         * The member does not own the command's aggregate (or is leaving, or does not take commands from the sender):
         * the command did not run there.
         *
         * @param message     the failure's message
         * @param ringVersion the member's ring version, or {@code NotOwnerException.UNKNOWN_VERSION}
         */
        record NotOwner(String message, long ringVersion) implements WireError {
        }

        /**
         * The command did not run and nothing of it was stored there (its deadline passed before it ran).
         *
         * @param message   the failure's message
         * @param commandId the command's id
         */
        record NotExecuted(String message, String commandId) implements WireError {
        }

        /**
         * The command's deadline passed while it may have been running or committing there.
         *
         * @param message   the failure's message
         * @param commandId the command's id, under which a re-send is safe
         */
        record OutcomeUnknown(String message, String commandId) implements WireError {
        }

        /**
         * The owner's event store is closed: it refused the command's reads or append, or cut its append short.
         *
         * @param message           the failure's message
         * @param commandId         the command's id, under which a re-send is safe
         * @param mayHaveBeenStored true when the command's append may have been stored, false when nothing of it was
         */
        record StoreClosed(String message, String commandId, boolean mayHaveBeenStored) implements WireError {
        }

        /**
         * The command's aggregate does not exist.
         *
         * @param message       the failure's message
         * @param aggregateType the aggregate's type
         * @param aggregateId   the aggregate's id
         */
        record NotFound(String message, String aggregateType, String aggregateId) implements WireError {
        }

        /**
         * The command would create an aggregate that exists.
         *
         * @param message       the failure's message
         * @param aggregateType the aggregate's type
         * @param aggregateId   the aggregate's id
         */
        record AlreadyExists(String message, String aggregateType, String aggregateId) implements WireError {
        }

        /**
         * A Gyre exception rebuilt from its class name (one of a known table, never loaded by name) and message.
         *
         * @param type    the class name of the nearest Gyre exception the sender's table knows
         * @param message the failure's message
         */
        record Known(String type, String message) implements WireError {
        }

        /**
         * The command's handler refused it (an application exception), or a failure the receiving member knows no
         * better form of.
         *
         * @param type    the class name of the handler's exception
         * @param message its message
         */
        record Handler(String type, String message) implements WireError {
        }
    }
}
