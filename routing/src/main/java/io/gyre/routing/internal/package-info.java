/**
 * Machinery of the ring: the hash function, point placement, the point index and the diff walk. Not API: users
 * must not import this package; it changes without notice.
 *
 * <p>Non-null by default: no parameter accepts null and no method returns null unless its documentation says so.
 */
package io.gyre.routing.internal;
