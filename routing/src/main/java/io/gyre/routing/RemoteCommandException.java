package io.gyre.routing;

import io.gyre.command.CommandRefusedException;

/**
 * A command handler on another member refused the command with an exception whose type cannot cross the wire
 * (application exceptions are not on the serialization allow-list). It carries the original class name and message,
 * and is a {@link CommandRefusedException} like a refusal stored by an earlier delivery. Never retried, like the
 * original.
 */
public class RemoteCommandException extends CommandRefusedException {

    private static final long serialVersionUID = 1L;

    private final String remoteType;
    private final String remoteMessage;
    private final String member;

    /**
     * @param remoteType    the class name of the handler's exception
     * @param remoteMessage its message
     * @param member        the member whose handler threw it
     */
    public RemoteCommandException(String remoteType, String remoteMessage, String member) {
        super(remoteType, remoteMessage, "decided by the handler on member " + member);
        this.remoteType = remoteType;
        this.remoteMessage = remoteMessage;
        this.member = member;
    }

    /** @return the class name of the handler's exception */
    public String remoteType() {
        return remoteType;
    }

    /** @return the handler's exception message */
    public String remoteMessage() {
        return remoteMessage;
    }

    /** @return the member whose handler threw it */
    public String member() {
        return member;
    }

    /**
     * @param type an exception class
     * @return true when the remote handler threw an instance of exactly that class
     */
    public boolean isOf(Class<? extends Throwable> type) {
        return type.getName().equals(remoteType);
    }
}
