/**
 * The distributed command bus over JGroups: {@link io.gyre.routing.jgroups.JGroupsCommandBus}.
 */
@NullMarked
package io.gyre.routing.jgroups;

import org.jspecify.annotations.NullMarked;
