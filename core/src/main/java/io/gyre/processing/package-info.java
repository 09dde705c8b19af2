/**
 * Event processors: read models and side effects fed from the event store.
 *
 * <p>Handlers are plain objects with {@link io.gyre.processing.EventHandler @EventHandler} methods, grouped into named
 * processors that a node registers: a {@link io.gyre.processing.TrackingProcessor} follows the global log from a
 * stored token, split into segments by aggregate so each aggregate's events stay in order;
 * a {@link io.gyre.processing.SubscribingProcessor} runs right after each append on the appending node.
 * {@link io.gyre.processing.Processors} reports their status and resets, resumes and retries them.
 *
 * <p>The SPIs behind them: {@link io.gyre.processing.TokenStore} (tokens, with fencing by epoch),
 * {@link io.gyre.processing.DeadLetterStore}, {@link io.gyre.processing.SegmentOwnership} (which segments this node
 * runs), {@link io.gyre.processing.ProcessingTransactions} (exactly-once effect on a read model's database) and
 * {@link io.gyre.processing.AppendNotifier} (wake-ups for appends made elsewhere).
 */
@NullMarked
package io.gyre.processing;

import org.jspecify.annotations.NullMarked;
