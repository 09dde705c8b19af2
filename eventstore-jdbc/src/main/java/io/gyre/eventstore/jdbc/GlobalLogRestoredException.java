package io.gyre.eventstore.jdbc;

import io.gyre.GyreNonTransientException;

/**
 * The events table holds transaction ids above the PostgreSQL server's own in its current log epoch, which happens
 * after a {@code pg_dump}/restore into another server or an upgrade by logical replication: the stored ids came from
 * the old server, and the new one hands out lower ones. (Or an event or a token is of a later log epoch than the
 * current one: data restored into a schema created anew.) Readers of the global log order events by (log epoch,
 * transaction id) and read only ids of the current epoch below the server's horizon, so they would silently get
 * nothing from the restored events, and new events would sort before restored ones that readers have passed. The
 * store refuses instead, at start and when reading. The message names the ids and the repair,
 * {@link GlobalLogRepair#startNewEpoch}; the README's "Repairing the global log after a restore" explains it.
 * Non-transient: waiting does not help.
 */
public class GlobalLogRestoredException extends GyreNonTransientException {

    private static final long serialVersionUID = 1L;

    private final String newestStored;
    private final String serverNext;

    /**
     * @param message      what was found and the repair
     * @param newestStored the transaction id found ahead of the server, stored or held by a processor's token
     * @param serverNext   the next transaction id the server will hand out
     */
    public GlobalLogRestoredException(String message, String newestStored, String serverNext) {
        super(message);
        this.newestStored = newestStored;
        this.serverNext = serverNext;
    }

    /** @return the transaction id found ahead of the server, stored or held by the token that was read after */
    public String newestStored() {
        return newestStored;
    }

    /** @return the next transaction id the server will hand out */
    public String serverNext() {
        return serverNext;
    }
}
