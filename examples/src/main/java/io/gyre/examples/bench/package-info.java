/**
 * Benchmark programs that print tables: run them, do not assert on them.
 */
package io.gyre.examples.bench;
