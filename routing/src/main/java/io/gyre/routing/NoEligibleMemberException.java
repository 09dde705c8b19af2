package io.gyre.routing;

import io.gyre.GyreTransientException;
import java.util.List;

/**
 * No member of a ring hosts an aggregate type, so commands for aggregates of that type have no owner right now.
 *
 * <p>Transient: while the membership settles (a node that hosts the type is still joining, or restarting) the
 * gateway retries the command until its deadline, which then reports it as not executed with this as its cause.
 */
public class NoEligibleMemberException extends GyreTransientException {

    private static final long serialVersionUID = 1L;

    /** @serial the aggregate type that no member hosts */
    private final String aggregateType;
    /** @serial the version of the ring that was asked */
    private final long ringVersion;
    /** @serial the ids of the ring's members */
    private final List<String> memberIds;

    /**
     * Creates the exception.
     *
     * @param aggregateType the aggregate type that no member hosts
     * @param ringVersion the version of the ring that was asked
     * @param members     the ring's members, named in the message with the types they host
     */
    public NoEligibleMemberException(String aggregateType, long ringVersion, List<Member> members) {
        this(message(aggregateType, ringVersion, members), aggregateType, ringVersion, members);
    }

    private NoEligibleMemberException(String message, String type, long ringVersion, List<Member> members) {
        super(message);
        this.aggregateType = type;
        this.ringVersion = ringVersion;
        this.memberIds = members.stream().map(Member::id).toList();
    }

    /**
     * No member advertises a handler for a command type, so the aggregate type it belongs to is not known yet.
     *
     * @param commandType the command type name
     * @param ringVersion the version of the ring that was asked
     * @param members     the ring's members
     * @return the exception; its {@link #aggregateType()} is the command type's name
     */
    public static NoEligibleMemberException forCommandType(String commandType, long ringVersion,
                                                           List<Member> members) {
        return new NoEligibleMemberException("No member handles command type '" + commandType + "' in ring version "
                + ringVersion + " (members " + members.stream().map(Member::id).toList() + "); a node that "
                + "handles it may still be joining", commandType, ringVersion, members);
    }

    private static String message(String aggregateType, long ringVersion, List<Member> members) {
        StringBuilder sb = new StringBuilder("No member hosts aggregate type '").append(aggregateType)
                .append("' in ring version ").append(ringVersion).append("; members: [");
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            sb.append(i == 0 ? "" : ", ").append(m.id()).append(" hosts ").append(m.aggregateTypes());
        }
        return sb.append("]; a node that hosts it may still be joining").toString();
    }

    /** @return the aggregate type that no member hosts */
    public String aggregateType() {
        return aggregateType;
    }

    /** @return the version of the ring that was asked */
    public long ringVersion() {
        return ringVersion;
    }

    /** @return the ids of the ring's members, in id order */
    public List<String> memberIds() {
        return memberIds;
    }
}
