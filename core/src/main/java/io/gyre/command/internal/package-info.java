/** Machinery behind {@code io.gyre.command}. Internal: users must not import it; it changes without notice. */
@NullMarked
package io.gyre.command.internal;

import org.jspecify.annotations.NullMarked;
