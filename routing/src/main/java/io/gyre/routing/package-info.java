/**
 * The consistent-hash ring that decides which cluster member owns each aggregate.
 *
 * <p>{@link io.gyre.routing.HashRing} maps a routing key and an aggregate type to the owning
 * {@link io.gyre.routing.Member}; {@link io.gyre.routing.RingDiff} says which key ranges moved between two rings;
 * {@link io.gyre.routing.RoutingHash} is the hash that places keys, fixed for every JVM and every version.
 *
 * <p>Non-null by default: no parameter accepts null and no method returns null unless its documentation says so.
 */
package io.gyre.routing;
