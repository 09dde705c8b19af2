/** The chaos run: node processes killed, stopped and restarted under load, and a checker of the store. */
@NullMarked
package io.gyre.examples.chaos;

import org.jspecify.annotations.NullMarked;
