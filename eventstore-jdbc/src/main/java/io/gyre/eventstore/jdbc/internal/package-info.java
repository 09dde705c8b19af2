/** Machinery behind the JDBC event store. Internal: users must not import it; it changes without notice. */
@NullMarked
package io.gyre.eventstore.jdbc.internal;

import org.jspecify.annotations.NullMarked;
