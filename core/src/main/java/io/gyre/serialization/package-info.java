/**
 * Turning events and commands into bytes and back, for the event store and the cluster wire. Only types on
 * the {@link io.gyre.serialization.TypeRegistry allow-list} are ever instantiated from stored or received
 * data; each has a stable {@link io.gyre.serialization.TypeName type name} that is written instead of the
 * Java class name, so classes can be renamed or moved without touching stored events.
 */
@NullMarked
package io.gyre.serialization;

import org.jspecify.annotations.NullMarked;
