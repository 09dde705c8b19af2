/**
 * Testing aggregates without a node: the given-when-then {@link io.gyre.testing.AggregateFixture}. It runs the
 * same model, serializer and repository as a node, on an in-memory store, and works with any test framework
 * (failures are {@link java.lang.AssertionError}s).
 */
@NullMarked
package io.gyre.testing;

import org.jspecify.annotations.NullMarked;
