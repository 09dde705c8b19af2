package io.gyre.processing.internal;

import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.AppendNotifier;
import io.gyre.processing.DeadLetterRetry;
import io.gyre.processing.DeadLetterStore;
import io.gyre.processing.Delivery;
import io.gyre.processing.ErrorPolicy;
import io.gyre.processing.GlobalLogMonitor;
import io.gyre.processing.InMemoryDeadLetterStore;
import io.gyre.processing.InMemoryTokenStore;
import io.gyre.processing.LocalSegmentOwnership;
import io.gyre.processing.ProcessingSettings;
import io.gyre.processing.ProcessorDefinition;
import io.gyre.processing.ProcessorDefinitionException;
import io.gyre.processing.ProcessorStatus;
import io.gyre.processing.Processors;
import io.gyre.processing.SegmentOwnership;
import io.gyre.processing.SubscribingProcessor;
import io.gyre.processing.TokenStore;
import io.gyre.processing.TrackingProcessor;
import io.gyre.serialization.Serializer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's event processors: resolves their stores and ownership when the node starts, wraps the node's event
 * store so that appends reach them, runs them, answers {@link Processors}, and stops them. Internal: not part of
 * Gyre's API; a {@code Gyre} node is its only user.
 */
public final class ProcessingRuntime implements Processors {

    private static final Logger log = LoggerFactory.getLogger(ProcessingRuntime.class);

    private final String nodeName;
    private final Map<String, TrackingRuntime> tracking;
    private final Map<String, SubscribingRuntime> subscribing;
    private final List<String> order;
    private final @Nullable ScheduledExecutorService timer;
    private final @Nullable AppendNotifier notifier;
    private SegmentOwnership.@Nullable Registration notifications;
    private @Nullable ExecutorService afterCommitThreads;

    private ProcessingRuntime(String nodeName, Map<String, TrackingRuntime> tracking,
                              Map<String, SubscribingRuntime> subscribing, List<String> order,
                              @Nullable ScheduledExecutorService timer, @Nullable AppendNotifier notifier) {
        this.nodeName = nodeName;
        this.tracking = tracking;
        this.subscribing = subscribing;
        this.order = List.copyOf(order);
        this.timer = timer;
        this.notifier = notifier;
    }

    /**
     * Adds a processor to a node's list, refusing a name already taken.
     *
     * @param processors the node's processors so far
     * @param processor  the new one
     * @throws ProcessorDefinitionException when a processor of that name is registered
     */
    public static void register(List<ProcessorDefinition> processors, ProcessorDefinition processor) {
        Objects.requireNonNull(processor, "processor");
        for (ProcessorDefinition other : processors) {
            if (other.name().equals(processor.name())) {
                throw new ProcessorDefinitionException("A processor named '" + processor.name() + "' is already "
                        + "registered (" + other + "); a name keys a processor's tokens and dead letters, so give "
                        + "each processor its own");
            }
        }
        processors.add(processor);
    }

    /**
     * @param processors a node's processors
     * @return the event classes their handlers name, to register for serialization
     */
    public static Set<Class<?>> eventTypes(List<ProcessorDefinition> processors) {
        Set<Class<?>> types = new LinkedHashSet<>();
        for (ProcessorDefinition processor : processors) {
            types.addAll(Handlers.inspect(processor.name(), processor.handlers()).eventTypes());
        }
        return types;
    }

    /**
     * Resolves every processor's stores and checks them: a tracking processor needs a token store (given, or in
     * memory on an in-memory event store) whose tokens match its segment count, and a processor that dead-letters
     * needs a dead-letter store.
     *
     * @param processors  the node's processors
     * @param settings    the node's processing settings
     * @param eventStore  the node's event store, as given
     * @param serializer  the node's serializer
     * @param clock       the node's clock
     * @param nodeName    the node's name
     * @param commandBus  the node's command bus, which may offer segment ownership
     * @return the runtime, not started
     * @throws IllegalStateException        when a store is missing
     * @throws ProcessorDefinitionException when stored tokens have another segment count
     */
    public static ProcessingRuntime prepare(List<ProcessorDefinition> processors, ProcessingSettings settings,
                                            EventStore eventStore, Serializer serializer, Clock clock,
                                            String nodeName, Object commandBus) {
        boolean inMemory = eventStore instanceof InMemoryEventStore;
        TokenStore nodeTokens = settings.tokenStore().orElse(inMemory ? new InMemoryTokenStore(clock) : null);
        DeadLetterStore nodeLetters = settings.deadLetterStore().orElse(
                nodeTokens instanceof DeadLetterStore letters ? letters : inMemory ? new InMemoryDeadLetterStore()
                        : null);
        SegmentOwnership ownership = settings.segmentOwnership().orElse(
                commandBus instanceof SegmentOwnership offered ? offered
                        : new LocalSegmentOwnership(nodeName + "@" + ProcessHandle.current().pid(), clock));
        Map<String, TrackingRuntime> tracking = new LinkedHashMap<>();
        Map<String, SubscribingRuntime> subscribing = new LinkedHashMap<>();
        List<String> order = new ArrayList<>();
        ScheduledExecutorService timer = processors.stream().anyMatch(p -> p instanceof TrackingProcessor)
                ? Executors.newSingleThreadScheduledExecutor(Threads.daemon(nodeName + "-processing-timer-")) : null;
        try {
            for (ProcessorDefinition processor : processors) {
                EventDispatcher dispatcher = new EventDispatcher(processor.name(),
                        Handlers.inspect(processor.name(), processor.handlers()), serializer);
                order.add(processor.name());
                if (processor instanceof TrackingProcessor definition) {
                    TokenStore tokens = nodeTokens;
                    DeadLetterStore letters = nodeLetters;
                    if (definition.delivery() instanceof Delivery.Transactional transactional) {
                        tokens = transactional.transactions().tokenStore();
                        if (settings.deadLetterStore().isEmpty()
                                && transactional.transactions() instanceof DeadLetterStore own) {
                            letters = own;
                        }
                    }
                    if (tokens == null) {
                        throw new IllegalStateException("Tracking processor '" + definition.name() + "' needs a "
                                + "token store to remember how far it got: give one with processing("
                                + "ProcessingSettings.builder().tokenStore(JdbcProcessingStore.create(dataSource))"
                                + ".build()), or tokenStore(new InMemoryTokenStore()) to replay the log from the "
                                + "start at every restart");
                    }
                    checkDeadLetters(definition, letters);
                    tokens.initialize(definition.name(), definition.segments());
                    tracking.put(definition.name(), new TrackingRuntime(definition, eventStore, dispatcher, tokens,
                            letters, ownership, clock, timer, nodeName,
                            eventStore instanceof GlobalLogMonitor monitor ? monitor : null));
                } else {
                    SubscribingProcessor definition = (SubscribingProcessor) processor;
                    checkDeadLetters(definition, nodeLetters);
                    subscribing.put(definition.name(), new SubscribingRuntime(definition, dispatcher, nodeLetters,
                            clock));
                }
            }
        } catch (RuntimeException e) {
            if (timer != null) {
                timer.shutdownNow();
            }
            throw e;
        }
        return new ProcessingRuntime(nodeName, tracking, subscribing, order, timer,
                settings.appendNotifier().orElse(eventStore instanceof AppendNotifier offered ? offered : null));
    }

    private static void checkDeadLetters(ProcessorDefinition processor, @Nullable DeadLetterStore letters) {
        if (processor.errorPolicy().then() == ErrorPolicy.Action.DEAD_LETTER && letters == null) {
            throw new IllegalStateException("Processor '" + processor.name() + "' puts failing events in a "
                    + "dead-letter store, but there is none: give one with processing(ProcessingSettings.builder()"
                    + ".deadLetterStore(...)), or a token store that is also one (JdbcProcessingStore)");
        }
    }

    /**
     * @param store the node's event store
     * @return the store the node's aggregates append through: the same store when there is no processor
     */
    public EventStore decorate(EventStore store) {
        if (tracking.isEmpty() && subscribing.isEmpty()) {
            return store;
        }
        if (subscribing.isEmpty()) {
            // Tracking processors are only woken, which any thread may do, the store's writer included.
            return new AfterCommitEventStore(store, this::appended, Runnable::run);
        }
        // Subscribing handlers are user code: never on the store's writer. As many threads as the command bus has
        // workers by default, which ran them before appends were asynchronous; idle ones stop.
        int threads = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), Threads.daemon(nodeName + "-after-commit-"));
        pool.allowCoreThreadTimeOut(true);
        afterCommitThreads = pool;
        return new AfterCommitEventStore(store, this::appended, pool);
    }

    private void appended(AppendRequest request, AppendResult result) {
        for (SubscribingRuntime processor : subscribing.values()) {
            processor.appended(request, result);
        }
        for (TrackingRuntime processor : tracking.values()) {
            processor.appended();
        }
    }

    /** Starts the tracking processors. */
    public void start() {
        // The given notifier, else the event store's own when it is one (JdbcEventStore on PostgreSQL: NOTIFY).
        if (notifier != null && !tracking.isEmpty()) {
            notifications = notifier.subscribe(() -> tracking.values().forEach(TrackingRuntime::appended));
        }
        tracking.values().forEach(TrackingRuntime::start);
        if (!order.isEmpty()) {
            log.info("Gyre node {} runs processors {}", nodeName, order);
        }
    }

    /**
     * Stops every processor, storing each segment's progress.
     *
     * @param timeout how long to wait for running handlers
     */
    public void close(Duration timeout) {
        if (notifications != null) {
            notifications.close();
        }
        for (TrackingRuntime processor : tracking.values()) {
            try {
                processor.close(timeout);
            } catch (RuntimeException e) {
                log.warn("Stopping processor '{}' failed", processor.name(), e);
            }
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        if (afterCommitThreads != null) {
            // Appends still completing hand their processors to the thread that completes them.
            afterCommitThreads.shutdown();
        }
    }

    @Override
    public List<ProcessorStatus> status() {
        List<ProcessorStatus> all = new ArrayList<>();
        for (String name : order) {
            all.add(status(name));
        }
        return all;
    }

    @Override
    public ProcessorStatus status(String processor) {
        TrackingRuntime tracker = tracking.get(processor);
        if (tracker != null) {
            return tracker.status();
        }
        return subscriber(processor).status();
    }

    @Override
    public CompletableFuture<Void> reset(String processor, TrackingToken after) {
        Objects.requireNonNull(after, "after");
        TrackingRuntime tracker = tracking.get(processor);
        if (tracker == null) {
            subscriber(processor);
            return CompletableFuture.failedFuture(new IllegalArgumentException("Processor '" + processor + "' is a "
                    + "subscribing processor: it has no token to reset and sees only new appends"));
        }
        return tracker.reset(after);
    }

    @Override
    public CompletableFuture<DeadLetterRetry> retryDeadLetters(String processor) {
        TrackingRuntime tracker = tracking.get(processor);
        if (tracker != null) {
            return tracker.retryDeadLetters();
        }
        SubscribingRuntime subscriber = subscriber(processor);
        return CompletableFuture.supplyAsync(subscriber::retryDeadLetters);
    }

    @Override
    public void resume(String processor) {
        TrackingRuntime tracker = tracking.get(processor);
        if (tracker != null) {
            tracker.resume();
        } else {
            subscriber(processor).resume();
        }
    }

    private SubscribingRuntime subscriber(String processor) {
        Objects.requireNonNull(processor, "processor");
        SubscribingRuntime subscriber = subscribing.get(processor);
        if (subscriber == null) {
            throw new IllegalArgumentException("Node " + nodeName + " has no processor named '" + processor
                    + "'; it has " + order);
        }
        return subscriber;
    }
}
