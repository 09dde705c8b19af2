package io.gyre.processing;

import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A node's settings for all its event processors: where tokens and dead letters are kept, who decides segment
 * ownership, and who reports appends made elsewhere. Give them with {@code Gyre.builder().processing(...)}.
 * Immutable.
 *
 * <p>Defaults, decided when the node starts: on an {@link io.gyre.eventstore.InMemoryEventStore}, tokens and dead
 * letters in memory; on any other store a {@link TokenStore} must be given (a node that forgot it would replay every
 * processor from the start at each restart), and the dead-letter store is the token store when it is one, as
 * {@code JdbcProcessingStore} is. Segment ownership comes from the command bus when it offers one (a cluster bus
 * spreads segments over its ring), else every segment is this node's ({@link LocalSegmentOwnership}). The append
 * notifier is the event store when it is one ({@code JdbcEventStore}: PostgreSQL's {@code LISTEN/NOTIFY}), else
 * none, and processors wake for their own node's appends and at their poll interval.
 */
public final class ProcessingSettings {

    private static final ProcessingSettings DEFAULTS = builder().build();

    private final @Nullable TokenStore tokenStore;
    private final @Nullable DeadLetterStore deadLetterStore;
    private final @Nullable SegmentOwnership segmentOwnership;
    private final @Nullable AppendNotifier appendNotifier;

    private ProcessingSettings(Builder builder) {
        this.tokenStore = builder.tokenStore;
        this.deadLetterStore = builder.deadLetterStore;
        this.segmentOwnership = builder.segmentOwnership;
        this.appendNotifier = builder.appendNotifier;
    }

    /** @return every setting at its default */
    public static ProcessingSettings defaults() {
        return DEFAULTS;
    }

    /** @return a builder with every setting at its default */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the token store, if one was given */
    public Optional<TokenStore> tokenStore() {
        return Optional.ofNullable(tokenStore);
    }

    /** @return the dead-letter store, if one was given */
    public Optional<DeadLetterStore> deadLetterStore() {
        return Optional.ofNullable(deadLetterStore);
    }

    /** @return the segment ownership, if one was given */
    public Optional<SegmentOwnership> segmentOwnership() {
        return Optional.ofNullable(segmentOwnership);
    }

    /** @return the append notifier, if one was given */
    public Optional<AppendNotifier> appendNotifier() {
        return Optional.ofNullable(appendNotifier);
    }

    /** Builds {@link ProcessingSettings}; each setter checks its value at once. Not thread-safe. */
    public static final class Builder {

        private @Nullable TokenStore tokenStore;
        private @Nullable DeadLetterStore deadLetterStore;
        private @Nullable SegmentOwnership segmentOwnership;
        private @Nullable AppendNotifier appendNotifier;

        private Builder() {
        }

        /**
         * @param tokenStore where tracking processors keep their tokens, for example
         *                   {@code JdbcProcessingStore.create(dataSource)}; a processor with a transactional
         *                   delivery keeps its tokens in its own database instead
         * @return this builder
         */
        public Builder tokenStore(TokenStore tokenStore) {
            this.tokenStore = Objects.requireNonNull(tokenStore, "tokenStore");
            return this;
        }

        /**
         * @param deadLetterStore where processors with {@link ErrorPolicy#deadLetter()} put events they gave up on
         * @return this builder
         */
        public Builder deadLetterStore(DeadLetterStore deadLetterStore) {
            this.deadLetterStore = Objects.requireNonNull(deadLetterStore, "deadLetterStore");
            return this;
        }

        /**
         * @param segmentOwnership decides which segments this node runs
         * @return this builder
         */
        public Builder segmentOwnership(SegmentOwnership segmentOwnership) {
            this.segmentOwnership = Objects.requireNonNull(segmentOwnership, "segmentOwnership");
            return this;
        }

        /**
         * @param appendNotifier reports appends made by other nodes, so that processors need not wait for their poll
         *                       (default: the event store, when it is an {@link AppendNotifier})
         * @return this builder
         */
        public Builder appendNotifier(AppendNotifier appendNotifier) {
            this.appendNotifier = Objects.requireNonNull(appendNotifier, "appendNotifier");
            return this;
        }

        /** @return the settings */
        public ProcessingSettings build() {
            return new ProcessingSettings(this);
        }
    }
}
