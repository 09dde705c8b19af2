/** Machinery behind {@code io.gyre.aggregate}. Internal: users must not import it; it changes without notice. */
@NullMarked
package io.gyre.aggregate.internal;

import org.jspecify.annotations.NullMarked;
