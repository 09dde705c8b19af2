/** Machinery behind the JGroups command bus. Internal: users must not import it; it changes without notice. */
@NullMarked
package io.gyre.routing.jgroups.internal;

import org.jspecify.annotations.NullMarked;
