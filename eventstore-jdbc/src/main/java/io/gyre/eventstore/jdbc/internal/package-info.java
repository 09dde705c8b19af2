/**
 * Machinery behind the JDBC event store. Internal: users must not import it; it changes without notice.
 *
 * <p>{@code JdbcEventStore} wires these and delegates to them: {@link io.gyre.eventstore.jdbc.internal.Appender}
 * writes one decision in a transaction of its own; {@link io.gyre.eventstore.jdbc.internal.GroupCommit} and
 * {@link io.gyre.eventstore.jdbc.internal.GroupAppender} let concurrent decisions share one;
 * {@link io.gyre.eventstore.jdbc.internal.DecisionRows} writes a decision's rows, checking its stream head in the
 * statement; {@link io.gyre.eventstore.jdbc.internal.ConflictDiagnosis} tells why a decision was refused;
 * {@link io.gyre.eventstore.jdbc.internal.Statements} holds the SQL with the binding of its parameters and the
 * mapping of its rows; {@link io.gyre.eventstore.jdbc.internal.StreamReader} reads streams and command records;
 * {@link io.gyre.eventstore.jdbc.internal.GlobalLog} is the global log of each dialect;
 * {@link io.gyre.eventstore.jdbc.internal.Failures} and {@link io.gyre.eventstore.jdbc.internal.SqlErrors}
 * translate driver errors; {@link io.gyre.eventstore.jdbc.internal.SchemaManager} creates, migrates and checks
 * the tables (with the shipped files, their recorded history and the schema the store expects);
 * {@link io.gyre.eventstore.jdbc.internal.EmbeddedH2} opens the embedded database.
 */
@NullMarked
package io.gyre.eventstore.jdbc.internal;

import org.jspecify.annotations.NullMarked;
