package io.gyre.routing;

import io.gyre.command.NoHandlerForCommandException;
import java.util.List;

/**
 * No member of a ring can handle a command type, so commands of that type have no owner.
 *
 * <p>Not transient for a given ring: retrying against the same membership cannot help. It goes away only when a
 * member that handles the type joins. A {@link NoHandlerForCommandException}, as on a single node.
 */
public class NoEligibleMemberException extends NoHandlerForCommandException {

    private static final long serialVersionUID = 1L;

    /** @serial the command type that no member handles */
    private final String commandType;
    /** @serial the version of the ring that was asked */
    private final long ringVersion;
    /** @serial the ids of the ring's members */
    private final List<String> memberIds;

    /**
     * Creates the exception.
     *
     * @param commandType the command type that no member handles
     * @param ringVersion the version of the ring that was asked
     * @param members     the ring's members, named in the message with the types they handle
     */
    public NoEligibleMemberException(String commandType, long ringVersion, List<Member> members) {
        super(message(commandType, ringVersion, members));
        this.commandType = commandType;
        this.ringVersion = ringVersion;
        this.memberIds = members.stream().map(Member::id).toList();
    }

    private static String message(String commandType, long ringVersion, List<Member> members) {
        StringBuilder sb = new StringBuilder("no member can handle command type '").append(commandType)
                .append("' in ring version ").append(ringVersion).append("; members: [");
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            sb.append(i == 0 ? "" : ", ").append(m.id()).append(" handles ").append(m.commandTypes());
        }
        return sb.append(']').toString();
    }

    /** @return the command type that no member handles */
    public String commandType() {
        return commandType;
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
