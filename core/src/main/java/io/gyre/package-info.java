/**
 * The Gyre node and what every part of the library shares: the {@link io.gyre.Gyre} node and its builder,
 * message {@link io.gyre.Metadata}, and the root of the exception hierarchy, split into
 * {@link io.gyre.GyreTransientException transient} failures (a retry can help) and
 * {@link io.gyre.GyreNonTransientException non-transient} ones (a retry cannot).
 *
 * <p>Everything in this package and its sub-packages is non-null unless marked {@code @Nullable}.
 */
@NullMarked
package io.gyre;

import org.jspecify.annotations.NullMarked;
