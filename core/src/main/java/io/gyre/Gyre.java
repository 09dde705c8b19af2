package io.gyre;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.aggregate.AggregateDefinitionException;
import io.gyre.aggregate.internal.AggregateCache;
import io.gyre.aggregate.internal.AggregateLoader;
import io.gyre.aggregate.internal.AggregateState;
import io.gyre.aggregate.internal.SnapshotTrigger;
import io.gyre.aggregate.internal.Snapshotter;
import io.gyre.aggregate.internal.AggregateModel;
import io.gyre.aggregate.internal.CommandHandlerMember;
import io.gyre.aggregate.internal.EventSourcedRepository;
import io.gyre.command.CommandBus;
import io.gyre.command.CachedAggregates;
import io.gyre.command.CommandBusContext;
import io.gyre.command.CommandGateway;
import io.gyre.command.Deadline;
import io.gyre.command.LocalCommandBus;
import io.gyre.command.RetryPolicy;
import io.gyre.command.internal.DeadlineTimer;
import io.gyre.command.internal.DefaultCommandGateway;
import io.gyre.eventstore.EventStore;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.ProcessorDefinition;
import io.gyre.processing.Processors;
import io.gyre.processing.internal.ProcessingRuntime;
import io.gyre.serialization.JacksonSerializer;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.TypeRegistry;
import io.gyre.serialization.Upcaster;
import io.gyre.serialization.Upcasters;
import io.gyre.snapshot.SnapshotStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Gyre node: the aggregates it runs, the event store it sources them from, the command bus that brings their
 * commands, and the {@link CommandGateway} to send commands with.
 *
 * <pre>{@code
 * try (Gyre node = Gyre.builder()
 *         .eventStore(JdbcEventStore.h2(Path.of("data/events")))
 *         .aggregate(Account.class)
 *         .start()) {
 *     node.commandGateway().sendAndWait(new OpenAccount("acc-1", "ann"));
 * }
 * }</pre>
 *
 * <p>Without {@link Builder#commandBus(CommandBus)} the node runs every command itself. With a distributed bus
 * (one builder line, no change to aggregate code) it runs the commands whose aggregates it owns and forwards the
 * rest.
 *
 * <p>The node owns the command bus and the event store it is given, and {@link #close()} closes them, except a
 * store given with {@link Builder#sharedEventStore(EventStore)}, which stays open for its other users.
 */
public final class Gyre implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gyre.class);

    private final EventStore eventStore;
    private final boolean ownsEventStore;
    private final Serializer serializer;
    private final LocalCommandBus localBus;
    private final CommandBus commandBus;
    private final DeadlineTimer timer;
    private final ExecutorService callbacks;
    private final DefaultCommandGateway gateway;
    private final List<EventSourcedRepository<?>> repositories;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Duration shutdownTimeout;
    private final ProcessingRuntime processing;
    private final @Nullable Snapshotter snapshotter;

    private Gyre(EventStore eventStore, boolean ownsEventStore, Serializer serializer, LocalCommandBus localBus,
                 CommandBus commandBus, DeadlineTimer timer, ExecutorService callbacks, DefaultCommandGateway gateway,
                 List<EventSourcedRepository<?>> repositories, Duration shutdownTimeout, ProcessingRuntime processing,
                 @Nullable Snapshotter snapshotter) {
        this.snapshotter = snapshotter;
        this.eventStore = eventStore;
        this.ownsEventStore = ownsEventStore;
        this.serializer = serializer;
        this.localBus = localBus;
        this.commandBus = commandBus;
        this.timer = timer;
        this.callbacks = callbacks;
        this.gateway = gateway;
        this.repositories = repositories;
        this.shutdownTimeout = shutdownTimeout;
        this.processing = processing;
    }

    /** @return a builder for a node */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the gateway to send commands with; thread-safe */
    public CommandGateway commandGateway() {
        return gateway;
    }

    /** @return the event store the node sources from and appends to */
    public EventStore eventStore() {
        return eventStore;
    }

    /** @return the serializer with the node's type allow-list */
    public Serializer serializer() {
        return serializer;
    }

    /** @return the bus that runs commands on this node */
    public LocalCommandBus localCommandBus() {
        return localBus;
    }

    /** @return this node's event processors: their status, and commands to reset, resume and retry them */
    public Processors processors() {
        return processing;
    }

    /** @return the number of aggregates this node holds loaded in its caches */
    public int cachedAggregates() {
        return repositories.stream().mapToInt(repository -> repository.cache().size()).sum();
    }

    /**
     * Stops the node, in an order that costs callers nothing that can be avoided: the gateway refuses new commands
     * (a transient {@link io.gyre.command.CommandBusClosedException}: send them through another node) and waits, up
     * to the shutdown timeout, for the ones already sent; then the command bus stops taking commands and finishes
     * the accepted ones (a distributed bus first hands its aggregates to the other members); commands still
     * unfinished then end as not executed or outcome unknown; last the event store is closed unless it was given as
     * shared. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (!gateway.drain(shutdownTimeout)) {
            log.warn("Gyre node closing with {} commands sent through it still unfinished after {}",
                    gateway.inFlight(), shutdownTimeout);
        }
        closeQuietly(commandBus);
        if (commandBus != localBus) {
            closeQuietly(localBus);
        }
        processing.close(shutdownTimeout);
        gateway.close();
        timer.close();
        callbacks.shutdown();
        if (snapshotter != null) {
            snapshotter.close(shutdownTimeout);
        }
        if (ownsEventStore) {
            closeQuietly(eventStore);
        }
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            log.warn("Closing {} failed", resource, e);
        }
    }

    /** Configures a {@link Gyre} node; each setter checks its value at once. Not thread-safe. */
    public static final class Builder {

        /**
         * The default snapshot interval, in events. Replaying this many events costs a few milliseconds, about what
         * reading one snapshot costs, so snapshots more often would cost writes for little gain in loading, and
         * rarer ones would leave long tails to replay after each.
         */
        public static final int DEFAULT_SNAPSHOT_EVERY = 1_000;

        private @Nullable EventStore eventStore;
        private boolean ownsEventStore;
        private final Map<Class<?>, AggregateModel<?>> aggregates = new LinkedHashMap<>();
        private final Set<Class<?>> extraTypes = new LinkedHashSet<>();
        private @Nullable CommandBus commandBus;
        private final LocalCommandBus.Builder localBus = LocalCommandBus.builder();
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private Duration commandTimeout = Duration.ofSeconds(30);
        private int callbackThreads = 2;
        private Duration shutdownTimeout = Duration.ofSeconds(30);
        private int cacheSize = 10_000;
        private Clock clock = Clock.systemUTC();
        private ObjectMapper objectMapper = new ObjectMapper();
        private String name = "gyre";
        private final List<ProcessorDefinition> processors = new ArrayList<>();
        private ProcessingSettings processing = ProcessingSettings.defaults();
        private @Nullable SnapshotStore snapshotStore;
        private int snapshotEvery = DEFAULT_SNAPSHOT_EVERY;
        private final Map<Class<?>, Integer> snapshotEveryByType = new LinkedHashMap<>();
        private final Upcasters.Builder upcasters = Upcasters.builder();

        private Builder() {
        }

        /**
         * @param name this node's name in thread names and logs (default "gyre"); give each node of a cluster
         *             its own, for example the distributed bus's node name
         * @return this builder
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank() || name.length() > 100) {
                throw new IllegalArgumentException("name must be 1 to 100 characters, but was '" + name + "'");
            }
            this.name = name;
            localBus.threadNamePrefix(name + "-command-");
            return this;
        }

        /**
         * @param eventStore where events are stored: {@code JdbcEventStore.h2(path)} embedded,
         *                   {@code JdbcEventStore.postgres(dataSource)} in production, {@code InMemoryEventStore}
         *                   in tests. Required (this or {@link #sharedEventStore}). The node closes it when it
         *                   closes.
         * @return this builder
         */
        public Builder eventStore(EventStore eventStore) {
            this.eventStore = Objects.requireNonNull(eventStore, "eventStore");
            this.ownsEventStore = true;
            return this;
        }

        /**
         * @param eventStore an event store that other nodes or components in this process also use; the node
         *                   does not close it, its creator does
         * @return this builder
         */
        public Builder sharedEventStore(EventStore eventStore) {
            this.eventStore = Objects.requireNonNull(eventStore, "eventStore");
            this.ownsEventStore = false;
            return this;
        }

        /**
         * Registers an aggregate class, checking it at once.
         *
         * @param aggregateType a class annotated {@code @Aggregate}
         * @return this builder
         * @throws AggregateDefinitionException when the class breaks a rule of the model, or one of its command
         *                                      types is already handled by another registered aggregate
         */
        public Builder aggregate(Class<?> aggregateType) {
            Objects.requireNonNull(aggregateType, "aggregateType");
            if (aggregates.containsKey(aggregateType)) {
                return this;
            }
            AggregateModel<?> model = AggregateModel.of(aggregateType);
            for (AggregateModel<?> other : aggregates.values()) {
                if (other.typeName().equals(model.typeName())) {
                    throw new AggregateDefinitionException("Aggregates " + other.type().getName() + " and "
                            + aggregateType.getName() + " have the same name '" + model.typeName() + "'; the name "
                            + "identifies an aggregate's stream, so give one of them another with "
                            + "@Aggregate(name = ...)");
                }
            }
            for (Class<?> commandType : model.commandHandlers().keySet()) {
                for (AggregateModel<?> other : aggregates.values()) {
                    CommandHandlerMember taken = other.commandHandler(commandType);
                    if (taken != null) {
                        throw new AggregateDefinitionException("Command " + commandType.getName() + " is handled by "
                                + "two aggregates: " + taken + " in " + other.type().getName() + " and "
                                + model.commandHandler(commandType) + " in " + aggregateType.getName()
                                + "; a command type must have exactly one handler");
                    }
                }
            }
            aggregates.put(aggregateType, model);
            return this;
        }

        /**
         * Registers several aggregate classes; see {@link #aggregate(Class)}.
         *
         * @param aggregateTypes classes annotated {@code @Aggregate}
         * @return this builder
         */
        public Builder aggregates(Class<?>... aggregateTypes) {
            for (Class<?> type : aggregateTypes) {
                aggregate(type);
            }
            return this;
        }

        /**
         * Adds types to the serialization allow-list beyond those the aggregates' handlers name: events whose
         * handler takes a non-sealed supertype, or events with no handler.
         *
         * @param types concrete classes
         * @return this builder
         */
        public Builder types(Class<?>... types) {
            for (Class<?> type : types) {
                extraTypes.add(Objects.requireNonNull(type, "type"));
            }
            return this;
        }

        /**
         * Registers an event processor, checked at once.
         *
         * @param processor a {@code TrackingProcessor} or {@code SubscribingProcessor}
         * @return this builder
         * @throws io.gyre.processing.ProcessorDefinitionException when another processor has the same name
         */
        public Builder processor(ProcessorDefinition processor) {
            ProcessingRuntime.register(processors, processor);
            return this;
        }

        /**
         * Builds and registers an event processor; see {@link #processor(ProcessorDefinition)}.
         *
         * @param processor {@code TrackingProcessor.named(...)...} or {@code SubscribingProcessor.named(...)...}
         * @return this builder
         */
        public Builder processor(ProcessorDefinition.Builder processor) {
            return processor(processor.build());
        }

        /**
         * @param processing where the event processors keep tokens and dead letters, and who decides which segments
         *                   this node runs (default {@link ProcessingSettings#defaults()})
         * @return this builder
         */
        public Builder processing(ProcessingSettings processing) {
            this.processing = Objects.requireNonNull(processing, "processing");
            return this;
        }

        /**
         * Takes snapshots of aggregates into a store, so that an aggregate that is not cached loads from its latest
         * snapshot and the events after it instead of from all its events. Snapshots are taken in the background,
         * never on a command's thread, every {@link #snapshotEvery(int)} events (default
         * {@value #DEFAULT_SNAPSHOT_EVERY}). A snapshot written by another version of the aggregate class (another
         * {@code @Revision}, or other fields) is ignored, and one that cannot be read is skipped with a warning: the
         * aggregate then loads from its events. Without a snapshot store no snapshot is taken.
         *
         * @param snapshotStore {@code jdbcEventStore.snapshots()} next to the events, or an
         *                      {@link io.gyre.snapshot.InMemorySnapshotStore}
         * @return this builder
         */
        public Builder snapshots(SnapshotStore snapshotStore) {
            this.snapshotStore = Objects.requireNonNull(snapshotStore, "snapshotStore");
            return this;
        }

        /**
         * @param events events between two snapshots of an aggregate, for every aggregate class without its own
         *               {@link #snapshotEvery(Class, int)}: 1 to 100,000,000, or 0 for no snapshots (default
         *               {@value #DEFAULT_SNAPSHOT_EVERY}; only with a {@link #snapshots(SnapshotStore) snapshot store})
         * @return this builder
         */
        public Builder snapshotEvery(int events) {
            this.snapshotEvery = checkSnapshotEvery(events);
            return this;
        }

        /**
         * @param aggregateType a registered aggregate class
         * @param events        events between two of its snapshots, 1 to 100,000,000, or 0 for none of this class
         * @return this builder
         */
        public Builder snapshotEvery(Class<?> aggregateType, int events) {
            snapshotEveryByType.put(Objects.requireNonNull(aggregateType, "aggregateType"), checkSnapshotEvery(events));
            return this;
        }

        private static int checkSnapshotEvery(int events) {
            if (events < 0 || events > 100_000_000) {
                throw new IllegalArgumentException("snapshotEvery must be between 0 (no snapshots) and 100000000 "
                        + "events, but was " + events);
            }
            return events;
        }

        /**
         * Registers an upcaster: events of the class stored at {@code fromRevision} are rewritten into revision
         * {@code fromRevision + 1} when they are read (loading aggregates and in event processors); an event several
         * revisions behind passes through each upcaster in order. See {@link io.gyre.serialization.Revision}.
         *
         * @param eventType    an event class annotated {@code @Revision(n)} with n above {@code fromRevision}
         * @param fromRevision the stored revision it rewrites, 0 to n - 1
         * @param upcaster     the rewrite of the event's JSON tree
         * @return this builder
         * @throws IllegalArgumentException when the revision is out of range or already has an upcaster
         */
        public Builder upcaster(Class<?> eventType, int fromRevision, Upcaster upcaster) {
            upcasters.add(eventType, fromRevision, upcaster);
            return this;
        }

        /**
         * @param commandBus a bus that routes commands across a cluster, for example
         *                   {@code JGroupsCommandBus.builder().cluster("bank").build()}; by default the node runs
         *                   every command itself
         * @return this builder
         */
        public Builder commandBus(CommandBus commandBus) {
            this.commandBus = Objects.requireNonNull(commandBus, "commandBus");
            return this;
        }

        /**
         * @param workers threads that run commands on this node, 1 to 1024 (default: 2 per processor, at least 4)
         * @return this builder
         */
        public Builder workers(int workers) {
            localBus.workers(workers);
            return this;
        }

        /**
         * @param maxPendingCommands commands this node admits to run at once (default 10,000); more are never
         *                           refused: they wait for room in the order they were sent, until their deadline
         * @return this builder
         */
        public Builder maxPendingCommands(int maxPendingCommands) {
            localBus.maxPendingCommands(maxPendingCommands);
            return this;
        }

        /**
         * @param maxPendingPerAggregate commands of one aggregate this node admits at once (default 32, at most
         *                               maxPendingCommands): a hot aggregate's further commands wait in its own
         *                               queue and hold up no other aggregate
         * @return this builder
         */
        public Builder maxPendingPerAggregate(int maxPendingPerAggregate) {
            localBus.maxPendingPerAggregate(maxPendingPerAggregate);
            return this;
        }

        /**
         * @param shutdownTimeout how long {@link Gyre#close()} waits for accepted commands (default 30 s)
         * @return this builder
         */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            localBus.shutdownTimeout(shutdownTimeout);
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /**
         * @param callbackThreads threads that complete the futures {@code send} returns, and so run their
         *                        non-async dependent stages, 1 to 64 (default 2)
         * @return this builder
         */
        public Builder callbackThreads(int callbackThreads) {
            if (callbackThreads < 1 || callbackThreads > 64) {
                throw new IllegalArgumentException("callbackThreads must be between 1 and 64, but was "
                        + callbackThreads);
            }
            this.callbackThreads = callbackThreads;
            return this;
        }

        /**
         * @param retryPolicy how the gateway retries transient failures (default {@link RetryPolicy#defaults()})
         * @return this builder
         */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
            return this;
        }

        /**
         * @param commandTimeout the deadline of commands sent without one, retries included (default 30 s)
         * @return this builder
         */
        public Builder commandTimeout(Duration commandTimeout) {
            this.commandTimeout = Deadline.checkTimeout(commandTimeout);
            return this;
        }

        /**
         * @param cacheSize aggregates kept loaded per aggregate class, 0 to disable (default 10,000)
         * @return this builder
         */
        public Builder cacheSize(int cacheSize) {
            if (cacheSize < 0 || cacheSize > 100_000_000) {
                throw new IllegalArgumentException("cacheSize must be between 0 and 100000000, but was " + cacheSize);
            }
            this.cacheSize = cacheSize;
            return this;
        }

        /**
         * @param clock stamps events (default: the system clock in UTC)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param objectMapper a Jackson mapper with the application's modules; it is copied and Gyre's safety
         *                     settings are applied to the copy
         * @return this builder
         */
        public Builder objectMapper(ObjectMapper objectMapper) {
            this.objectMapper = Objects.requireNonNull(objectMapper, "objectMapper");
            return this;
        }

        /**
         * Builds and starts the node.
         *
         * @return the running node
         * @throws IllegalStateException    when no event store or no aggregate was given
         * @throws IllegalArgumentException when two types claim one serialization name
         */
        public Gyre start() {
            EventStore store = eventStore;
            if (store == null) {
                throw new IllegalStateException("No event store: call eventStore(...) with JdbcEventStore.h2(path) "
                        + "for an embedded store, JdbcEventStore.postgres(dataSource) in production, or "
                        + "new InMemoryEventStore() in tests");
            }
            if (aggregates.isEmpty() && processors.isEmpty()) {
                throw new IllegalStateException("No aggregate and no processor: call aggregate(YourAggregate.class)");
            }
            TypeRegistry.Builder types = TypeRegistry.builder();
            for (AggregateModel<?> model : aggregates.values()) {
                model.commandHandlers().keySet().forEach(types::register);
                model.eventTypes().forEach(types::register);
            }
            extraTypes.forEach(types::register);
            ProcessingRuntime.eventTypes(processors).forEach(types::register);
            for (Class<?> type : snapshotEveryByType.keySet()) {
                if (!aggregates.containsKey(type)) {
                    throw new IllegalStateException("snapshotEvery(" + type.getSimpleName() + ".class, ...) was set, "
                            + "but " + type.getName() + " is not a registered aggregate; register it with "
                            + "aggregate(" + type.getSimpleName() + ".class)");
                }
            }
            Upcasters allUpcasters = upcasters.build();
            TypeRegistry registry = types.build();
            for (Class<?> type : allUpcasters.eventTypes()) {
                if (!registry.contains(type)) {
                    throw new IllegalStateException("An upcaster was registered for " + type.getName() + ", which is "
                            + "not a registered event type, so it would never run; handle the event in an "
                            + "@EventSourcingHandler or register it with types(" + type.getSimpleName() + ".class)");
                }
            }
            Serializer serializer = new JacksonSerializer(registry, objectMapper, allUpcasters);
            ProcessingRuntime processingRuntime;
            try {
                processingRuntime = ProcessingRuntime.prepare(processors, processing, store, serializer, clock, name,
                        commandBus == null ? "local" : commandBus);
            } catch (RuntimeException e) {
                if (ownsEventStore) {
                    closeQuietly(store);
                }
                throw e;
            }
            EventStore appendStore = processingRuntime.decorate(store);

            LocalCommandBus local = localBus.build();
            List<EventSourcedRepository<?>> repositories = new ArrayList<>();
            Map<Class<?>, String> eventOwners = new java.util.HashMap<>();
            for (AggregateModel<?> model : aggregates.values()) {
                for (Class<?> eventType : model.eventTypes()) {
                    eventOwners.putIfAbsent(eventType, model.typeName());
                }
            }
            Snapshotter snapshotter = snapshotStore == null ? null : new Snapshotter(name, snapshotStore, clock);
            EventStore repositoryStore = snapshotter == null ? appendStore
                    : new SnapshotTrigger(appendStore, snapshotter);
            ObjectMapper stateMapper = snapshotter == null ? null : AggregateState.mapper(objectMapper);
            for (AggregateModel<?> model : aggregates.values()) {
                EventSourcedRepository<?> repository = repository(model, repositoryStore, store, serializer,
                        eventOwners, snapshotter, stateMapper);
                repositories.add(repository);
                for (Class<?> commandType : model.commandHandlers().keySet()) {
                    local.subscribe(commandType, model.typeName(), repository);
                }
            }

            CommandBus bus = commandBus == null ? local : commandBus;
            List<EventSourcedRepository<?>> frozen = List.copyOf(repositories);
            if (bus != local) {
                try {
                    bus.start(new CommandBusContext(local, local.commandTypes(), serializer, clock,
                            new NodeCaches(frozen)));
                } catch (RuntimeException e) {
                    local.close();
                    processingRuntime.close(Duration.ZERO);
                    if (ownsEventStore) {
                        closeQuietly(store);
                    }
                    throw e;
                }
            }
            DeadlineTimer timer = new DeadlineTimer(name + "-deadlines");
            ExecutorService callbacks = Executors.newFixedThreadPool(callbackThreads, daemonThreads(name + "-callbacks-"));
            DefaultCommandGateway gateway = new DefaultCommandGateway(bus, retryPolicy, commandTimeout, timer, callbacks);
            log.info("Gyre node {} started: aggregates {}, {} registered types, command bus {}", name,
                    aggregates.keySet().stream().map(Class::getSimpleName).toList(),
                    serializer.types().classes().size(), bus.getClass().getSimpleName());
            processingRuntime.start();
            return new Gyre(appendStore, ownsEventStore, serializer, local, bus, timer, callbacks, gateway, frozen,
                    shutdownTimeout, processingRuntime, snapshotter);
        }

        /**
         * A repository whose loader reads snapshots, and whose appends are watched for them, when they are on. The
         * loader reads from the configured store itself, not through the wrappers that watch appends (which pass
         * reads on unchanged), so that a snapshot store next to it can tell it is its own and read a snapshot with
         * its events in one round trip ({@link io.gyre.snapshot.ReadSnapshotWithEvents}).
         */
        private <A> EventSourcedRepository<A> repository(AggregateModel<A> model, EventStore store,
                                                         EventStore reads, Serializer serializer,
                                                         Map<Class<?>, String> eventOwners,
                                                         @Nullable Snapshotter snapshotter,
                                                         @Nullable ObjectMapper stateMapper) {
            int every = snapshotEveryByType.getOrDefault(model.type(), snapshotEvery);
            AggregateLoader<A> loader;
            if (snapshotter == null || stateMapper == null || every == 0) {
                loader = new AggregateLoader<>(model, store, serializer, eventOwners::get);
            } else {
                AggregateState<A> state = new AggregateState<>(model, stateMapper);
                loader = new AggregateLoader<>(model, reads, serializer, eventOwners::get, snapshotStore, state, every,
                        snapshotter::request);
                snapshotter.register(loader, state, every);
            }
            return new EventSourcedRepository<>(model, store, serializer, clock, new AggregateCache(cacheSize), loader);
        }

        /** The repositories' caches, by aggregate type, for the command bus. */
        private record NodeCaches(List<EventSourcedRepository<?>> repositories) implements CachedAggregates {

            private @Nullable AggregateCache of(String aggregateType) {
                for (EventSourcedRepository<?> repository : repositories) {
                    if (repository.model().typeName().equals(aggregateType)) {
                        return repository.cache();
                    }
                }
                return null;
            }

            @Override
            public List<String> ids(String aggregateType) {
                AggregateCache cache = of(aggregateType);
                return cache == null ? List.of() : cache.ids();
            }

            @Override
            public void evict(String aggregateType, java.util.Collection<String> ids) {
                AggregateCache cache = of(aggregateType);
                if (cache == null) {
                    return;
                }
                // In slices, so that commands reach the cache between them instead of waiting for the whole batch.
                List<String> all = List.copyOf(ids);
                for (int from = 0; from < all.size(); from += 1024) {
                    cache.removeAll(all.subList(from, Math.min(all.size(), from + 1024)));
                }
            }

            @Override
            public void evictAll() {
                repositories.forEach(repository -> repository.cache().removeIf(id -> true));
            }
        }

        private static ThreadFactory daemonThreads(String prefix) {
            AtomicInteger count = new AtomicInteger();
            return runnable -> {
                Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            };
        }
    }
}
