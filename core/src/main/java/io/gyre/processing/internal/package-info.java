/**
 * Machinery behind {@code io.gyre.processing}: handler inspection and invocation, the segment hash, the shared log
 * reader and the segment workers of tracking processors, subscribing dispatch. Internal: users must not import it;
 * it changes without notice.
 */
@NullMarked
package io.gyre.processing.internal;

import org.jspecify.annotations.NullMarked;
