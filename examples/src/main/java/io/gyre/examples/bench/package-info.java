/**
 * Benchmark programs that print tables: run them, do not assert on them. Each prints medians over several
 * rounds next to a baseline measured in the same process, because absolute figures on a shared machine mean
 * little.
 */
@NullMarked
package io.gyre.examples.bench;

import org.jspecify.annotations.NullMarked;
