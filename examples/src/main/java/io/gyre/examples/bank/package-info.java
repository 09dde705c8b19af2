/** The bank example: an {@code Account} aggregate, its commands and events, and a runnable demo. */
@NullMarked
package io.gyre.examples.bank;

import org.jspecify.annotations.NullMarked;
