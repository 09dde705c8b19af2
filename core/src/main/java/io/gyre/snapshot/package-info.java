/**
 * Snapshots of aggregates: the {@link io.gyre.snapshot.SnapshotStore} SPI and an in-memory implementation.
 *
 * <p>A snapshot is only a shortcut: an aggregate loads from its latest snapshot and the events after it, and from
 * its events alone whenever the snapshot is missing, was written by an incompatible version of the aggregate
 * class, cannot be read, or no longer matches the stored events. Deleting every snapshot is always safe.
 */
@NullMarked
package io.gyre.snapshot;

import org.jspecify.annotations.NullMarked;
