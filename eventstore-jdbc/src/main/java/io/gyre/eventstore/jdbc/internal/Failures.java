package io.gyre.eventstore.jdbc.internal;

import java.sql.SQLException;
import java.util.Objects;

/**
 * Turns a driver error into Gyre's exception of the matching kind ({@link SqlErrors#translate}), and forgets every
 * known stream head when the database failed as a whole: a fail-over to a replica that lags, or a restore, may
 * have lost events this store saw committed, so what {@link KnownStreamHeads} learned no longer holds. Internal:
 * not part of Gyre's API.
 */
public final class Failures {

    private final KnownStreamHeads heads;

    /** @param heads what the store knows of its streams, forgotten on an outage */
    public Failures(KnownStreamHeads heads) {
        this.heads = Objects.requireNonNull(heads, "heads");
    }

    /**
     * @param operation what was being done, naming the stream, command or token involved
     * @param cause     the driver's error
     * @return the exception to throw, with the driver's error as its cause
     */
    public RuntimeException of(String operation, SQLException cause) {
        if (SqlErrors.isConnectionFailure(cause)) {
            heads.clear();
        }
        return SqlErrors.translate(operation, cause);
    }
}
