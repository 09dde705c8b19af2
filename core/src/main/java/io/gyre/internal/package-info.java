/** Shared machinery of Gyre's core. Internal: users must not import it; it changes without notice. */
@NullMarked
package io.gyre.internal;

import org.jspecify.annotations.NullMarked;
