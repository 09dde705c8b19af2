package io.gyre.processing;

import io.gyre.processing.internal.Handlers;
import io.gyre.processing.internal.Segmenter;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A processor that follows the global log from a stored token, in batches, for read models (projections) and other
 * consumers that must see every committed event.
 *
 * <pre>{@code
 * Gyre node = Gyre.builder()
 *         .eventStore(store)
 *         .aggregate(Account.class)
 *         .processing(ProcessingSettings.builder().tokenStore(JdbcProcessingStore.create(dataSource)).build())
 *         .processor(TrackingProcessor.named("balances")
 *                 .segments(8)
 *                 .handlers(new BalancesProjection())
 *                 .onError(ErrorPolicy.deadLetter()))
 *         .start();
 * }</pre>
 *
 * <h2>Segments and order</h2>
 * The log is split into {@link Builder#segments(int) segments} by a stable 64-bit hash (XXH64) of each event's
 * aggregate type and id, so all events of one aggregate fall into one segment and are handled in their sequence
 * order, while segments run in parallel, each with its own token. Which segments a node runs is decided by the
 * node's {@link SegmentOwnership}: all of them on a single node, a share of the cluster's ring in a cluster.
 * A node reads the log once per processor for all the segments it runs and hands each segment its events; a
 * segment that falls behind (retrying a failing event) reads on its own until it has caught up, so it never holds
 * up the others. The segment count is part of the stored state: changing it needs a reset.
 *
 * <h2>Nothing skipped</h2>
 * The processor reads through {@link io.gyre.eventstore.ReadAllEvents}, whose stores deliver an event whose
 * transaction committed after a later position was already visible in its place, and never wait for ever on a
 * position that rolled back; no high-water mark or timeout ever skips an event.
 *
 * <h2>Live tail</h2>
 * When a read comes back empty the processor waits until the node appends (it is woken at once), an
 * {@link AppendNotifier} reports an append elsewhere, or the {@link Builder#pollInterval(Duration) poll interval}
 * passes. When the log is far ahead, it reads {@link Builder#batchSize(int) batches} back to back.
 */
public final class TrackingProcessor implements ProcessorDefinition {

    /** The most segments a processor may have. */
    public static final int MAX_SEGMENTS = 4096;

    private final String name;
    private final List<Object> handlers;
    private final int segments;
    private final int batchSize;
    private final int threads;
    private final Delivery delivery;
    private final ErrorPolicy errorPolicy;
    private final Duration pollInterval;

    private TrackingProcessor(Builder builder, int threads) {
        this.name = builder.name;
        this.handlers = builder.handlers.targets();
        this.segments = builder.segments;
        this.batchSize = builder.batchSize;
        this.threads = threads;
        this.delivery = builder.delivery;
        this.errorPolicy = builder.errorPolicy;
        this.pollInterval = builder.pollInterval;
    }

    /**
     * @param name the processor's name: 1 to 100 letters, digits or {@code . _ -}; it keys the tokens, so keep it
     *             stable across releases
     * @return a builder
     * @throws IllegalArgumentException when the name breaks the rule
     */
    public static Builder named(String name) {
        return new Builder(ProcessorDefinition.checkName(name));
    }

    /**
     * The segment that handles an aggregate's events, by the stable hash the class description names: for an
     * operator who wants to know which segment (and so which token, status or node) holds an aggregate.
     *
     * @param aggregateType the aggregate's type name, as stored with its events
     * @param aggregateId   its id
     * @param segments      the processor's segment count, 1 to {@value #MAX_SEGMENTS}
     * @return the segment, from 0 to {@code segments - 1}
     * @throws NullPointerException     when the type or the id is null
     * @throws IllegalArgumentException when the segment count is out of range
     */
    public static int segmentOf(String aggregateType, String aggregateId, int segments) {
        Objects.requireNonNull(aggregateType, "aggregateType");
        Objects.requireNonNull(aggregateId, "aggregateId");
        if (segments < 1 || segments > MAX_SEGMENTS) {
            throw new IllegalArgumentException("segments must be 1 to " + MAX_SEGMENTS + ", but was " + segments);
        }
        return Segmenter.segmentOf(aggregateType, aggregateId, segments);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Object> handlers() {
        return handlers;
    }

    /** @return how many segments the log is split into */
    public int segments() {
        return segments;
    }

    /** @return the most events read from the log at once */
    public int batchSize() {
        return batchSize;
    }

    /** @return the threads that run this processor's segments on a node */
    public int threads() {
        return threads;
    }

    /** @return when the token moves relative to the handlers' effects */
    public Delivery delivery() {
        return delivery;
    }

    @Override
    public ErrorPolicy errorPolicy() {
        return errorPolicy;
    }

    /** @return the longest a caught-up processor waits before reading again without being woken */
    public Duration pollInterval() {
        return pollInterval;
    }

    @Override
    public String toString() {
        return "TrackingProcessor[" + name + ", " + segments + " segments, " + delivery + ", " + errorPolicy + "]";
    }

    /** Configures a {@link TrackingProcessor}; each setter checks its value at once. Not thread-safe. */
    public static final class Builder implements ProcessorDefinition.Builder {

        private final String name;
        private @org.jspecify.annotations.Nullable Handlers handlers;
        private int segments = 4;
        private int batchSize = 1000;
        private int threads;
        private Delivery delivery = Delivery.atLeastOnce();
        private ErrorPolicy errorPolicy = ErrorPolicy.stop();
        private Duration pollInterval = Duration.ofMillis(500);

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Adds handler objects, checking their {@link EventHandler} methods at once.
         *
         * @param handlers objects with {@code @EventHandler} methods
         * @return this builder
         * @throws ProcessorDefinitionException naming the method with a wrong signature, a class without handler
         *                                      methods, or an object given twice
         */
        public Builder handlers(Object... handlers) {
            List<Object> more = Arrays.asList(handlers);
            this.handlers = this.handlers == null ? Handlers.inspect(name, more) : this.handlers.with(more);
            return this;
        }

        /**
         * @param segments how many segments split the log, 1 to {@value #MAX_SEGMENTS} (default 4): the most nodes
         *                 (and threads) that can share the processor; it keys the stored tokens, so changing it later
         *                 needs a reset
         * @return this builder
         */
        public Builder segments(int segments) {
            if (segments < 1 || segments > MAX_SEGMENTS) {
                throw new IllegalArgumentException("segments of processor '" + name + "' must be between 1 and "
                        + MAX_SEGMENTS + ", but was " + segments);
            }
            this.segments = segments;
            return this;
        }

        /**
         * @param batchSize the most events read from the log at once, 1 to 100,000 (default 1,000); larger batches
         *                  catch up faster and hold more events in memory
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1 || batchSize > 100_000) {
                throw new IllegalArgumentException("batchSize of processor '" + name + "' must be between 1 and "
                        + "100000, but was " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**
         * @param threads threads that run this processor's segments on a node, 1 to 256 (default: the segments, at
         *                most the processors of the machine); more threads than segments would idle
         * @return this builder
         */
        public Builder threads(int threads) {
            if (threads < 1 || threads > 256) {
                throw new IllegalArgumentException("threads of processor '" + name + "' must be between 1 and 256, "
                        + "but was " + threads);
            }
            this.threads = threads;
            return this;
        }

        /**
         * @param delivery {@link Delivery#atLeastOnce()} (the default) or {@link Delivery#transactional}
         * @return this builder
         */
        public Builder delivery(Delivery delivery) {
            this.delivery = Objects.requireNonNull(delivery, "delivery");
            return this;
        }

        /**
         * @param errorPolicy what happens when a handler throws (default {@link ErrorPolicy#stop()})
         * @return this builder
         */
        public Builder onError(ErrorPolicy errorPolicy) {
            this.errorPolicy = Objects.requireNonNull(errorPolicy, "errorPolicy");
            return this;
        }

        /**
         * @param pollInterval the longest a caught-up processor waits before reading again without being woken,
         *                     10 ms to 1 hour (default 500 ms); it bounds how late an append by another node is seen
         *                     when no {@link AppendNotifier} reports it
         * @return this builder
         */
        public Builder pollInterval(Duration pollInterval) {
            Objects.requireNonNull(pollInterval, "pollInterval");
            if (pollInterval.compareTo(Duration.ofMillis(10)) < 0 || pollInterval.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("pollInterval of processor '" + name + "' must be between 10 ms "
                        + "and 1 hour, but was " + pollInterval);
            }
            this.pollInterval = pollInterval;
            return this;
        }

        /**
         * @return the immutable definition
         * @throws ProcessorDefinitionException when no handler was given, or a handler takes a resource the delivery
         *                                      does not hand out
         */
        @Override
        public TrackingProcessor build() {
            if (handlers == null) {
                throw new ProcessorDefinitionException("Processor '" + name + "' has no handler; call handlers(...) "
                        + "with at least one object with @EventHandler methods");
            }
            Class<?> resource = delivery instanceof Delivery.Transactional transactional
                    ? transactional.transactions().resourceType() : null;
            handlers.checkParameters(resource, true, "to write a read model in the processor's transaction, set "
                    + "delivery(Delivery.transactional(JdbcProcessingStore.create(dataSource)))");
            int resolvedThreads = threads > 0 ? threads
                    : Math.min(segments, Math.max(2, Runtime.getRuntime().availableProcessors()));
            return new TrackingProcessor(this, resolvedThreads);
        }
    }
}
