package io.gyre.aggregate.internal;

import io.gyre.GyreTransientException;
import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.command.CommandBusClosedException;
import io.gyre.command.CommandHandlerFunction;
import io.gyre.command.CommandMessage;
import io.gyre.command.CommandNotExecutedException;
import io.gyre.command.CommandRefusedException;
import io.gyre.command.Deadline;
import io.gyre.command.internal.CallerRuns;
import io.gyre.eventstore.AppendRequest;
import io.gyre.eventstore.AppendResult;
import io.gyre.eventstore.CommandIdReusedException;
import io.gyre.eventstore.CommandOutcome;
import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.ConcurrencyConflictException;
import io.gyre.eventstore.DuplicateCommandException;
import io.gyre.eventstore.EventData;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.EventStoreClosedException;
import io.gyre.eventstore.EventStoreException;
import io.gyre.eventstore.ExpectedSequence;
import io.gyre.eventstore.StreamId;
import io.gyre.internal.Ids;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.UnregisteredTypeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands on the aggregates of one class: loads the aggregate (cache, else its {@link AggregateLoader}: the
 * latest snapshot and the events after it), invokes the handler, and has the store arbitrate the decision,
 * asynchronously: the worker that decided is free while the store writes ({@link #handleAsync}). The caller guarantees that commands for one aggregate never run
 * concurrently on this node: the next one starts only after the previous one's stage completed. Internal: not part of Gyre's API.
 *
 * <h2>Every decision is checked by the store</h2>
 * A decision is only as good as the state it was made on, and a cached aggregate can be stale (another node wrote
 * it during a partition or while this one was paused). So every decision is made "at" the last sequence number it
 * saw, and the store confirms that the stream is still there before the caller hears of it:
 * <ul>
 *   <li>events are appended with that sequence number expected;</li>
 *   <li>a decision without events (the handler refused by throwing, or applied nothing) is stored under the
 *       command id, only if the stream has not moved, when another delivery of the command may exist (a retry, a
 *       caller-chosen id); otherwise the stream's last sequence number is read and compared, which costs no write
 *       and is enough, since no other delivery can contradict it.</li>
 * </ul>
 * When the stream has moved, the cached aggregate is dropped and the command runs again on fresh state, in place,
 * inside its aggregate's turn, so it never falls behind later commands; this repeats until the command's deadline,
 * after which it fails as {@linkplain CommandNotExecutedException not executed} (nothing of it was stored).
 *
 * <h2>The first decision on a command id is final</h2>
 * A command that may have been decided before is looked up first, and answered with its stored outcome. A delivery
 * that races an earlier one finds the command key taken when it stores its decision
 * ({@link DuplicateCommandException}) and answers with the stored outcome instead. A stored refusal comes back as
 * {@link CommandRefusedException} (or as the same Gyre exception, for "not found" and "already exists").
 * Every decision is stored with its command's {@linkplain CommandFingerprint fingerprint}, so a caller that reuses a
 * command id for a different command gets a {@link CommandIdReusedException} instead of the first one's outcome.
 *
 * <h2>What stays cached</h2>
 * A command that applied no event leaves its aggregate as it was, whatever it failed with, so the aggregate stays
 * loaded and a business refusal costs the next command no replay. It is dropped when its state may be dirty or
 * stale: an event was applied before the handler threw, an append failed or conflicted, or the store answered
 * with a decision this node's copy has not seen.
 *
 * @param <A> the aggregate class
 */
public final class EventSourcedRepository<A> implements CommandHandlerFunction {

    private static final Logger log = LoggerFactory.getLogger(EventSourcedRepository.class);

    /** The longest pause between two tries of a command that keeps meeting conflicts. */
    private static final long MAX_CONFLICT_BACKOFF_MILLIS = 50;
    /** The longest pause between two tries of a command while the store keeps failing. */
    private static final long MAX_STORE_FAILURE_BACKOFF_MILLIS = 1_000;
    /** Tries of a command without a deadline while the store keeps failing; one with a deadline tries until it. */
    private static final int MAX_STORE_FAILURES_WITHOUT_DEADLINE = 5;
    /**
     * The least time before its deadline with which a waiting caller writes its own append: less would be cut short
     * by the store's bound more often than it would be written.
     */
    static final Duration MIN_TIME_TO_WRITE_AS_CALLER = Duration.ofMillis(20);

    private final AggregateModel<A> model;
    private final EventStore store;
    private final Serializer serializer;
    private final Clock clock;
    private final AggregateCache cache;
    private final AggregateLoader<A> loader;

    /**
     * @param model      the aggregate's model
     * @param store      the event store
     * @param serializer turns events into stored form and back
     * @param clock      stamps applied events
     * @param cache      aggregates this node keeps loaded
     */
    public EventSourcedRepository(AggregateModel<A> model, EventStore store, Serializer serializer, Clock clock,
                                  AggregateCache cache) {
        this(model, store, serializer, clock, cache, eventClass -> null);
    }

    /**
     * @param model       the aggregate's model
     * @param store       the event store
     * @param serializer  turns events into stored form and back
     * @param clock       stamps applied events
     * @param cache       aggregates this node keeps loaded
     * @param eventOwners for an event class, the name of the registered aggregate type whose handlers take it, or
     *                    null; a stream holding another aggregate's event is refused instead of loaded
     */
    public EventSourcedRepository(AggregateModel<A> model, EventStore store, Serializer serializer, Clock clock,
                                  AggregateCache cache, java.util.function.Function<Class<?>, @Nullable String> eventOwners) {
        this(model, store, serializer, clock, cache, new AggregateLoader<>(model, store, serializer, eventOwners));
    }

    /**
     * @param model      the aggregate's model
     * @param store      the event store
     * @param serializer turns events into stored form and back
     * @param clock      stamps applied events
     * @param cache      aggregates this node keeps loaded
     * @param loader     loads an aggregate that is not cached (from a snapshot and its events)
     */
    public EventSourcedRepository(AggregateModel<A> model, EventStore store, Serializer serializer, Clock clock,
                                  AggregateCache cache, AggregateLoader<A> loader) {
        this.loader = Objects.requireNonNull(loader, "loader");
        this.model = Objects.requireNonNull(model, "model");
        this.store = Objects.requireNonNull(store, "store");
        this.serializer = Objects.requireNonNull(serializer, "serializer");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cache = Objects.requireNonNull(cache, "cache");
    }

    /** @return the model of the aggregates this repository serves */
    public AggregateModel<A> model() {
        return model;
    }

    /** @return the cache of loaded aggregates */
    public AggregateCache cache() {
        return cache;
    }

    /**
     * Runs one command to completion on the calling thread, for callers outside a command bus (the test fixture):
     * {@link #handleAsync} with the caller's thread as the workers, waiting for the outcome. The next try after a
     * conflict runs on the calling thread too, never on the store's.
     *
     * @param command the command; its payload class must have a handler in this aggregate
     * @return the handler's result: the aggregate id for a creation command
     * @throws Exception as {@link #handleAsync} fails
     */
    @Override
    public @Nullable Object handle(CommandMessage command) throws Exception {
        LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
        CompletableFuture<@Nullable Object> outcome = handleAsync(command, tasks::add);
        outcome.whenComplete((value, failure) -> tasks.add(() -> { })); // wakes the loop below
        while (!outcome.isDone()) {
            tasks.take().run();
        }
        try {
            return outcome.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception exception) {
                throw exception;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    /**
     * Runs one command: decides it on the calling worker (the aggregate from the cache, else the store; the
     * handler), then hands its events to the store ({@link EventStore#appendAsync}) and returns without waiting.
     * The stage completes once the decision is stored (or confirmed), after the cache holds the aggregate's new
     * state, or with the failure when nothing is stored. The caller guarantees that the aggregate's next command
     * starts only after that. Concurrency conflicts are decided again on fresh state, on {@code workers} (never on
     * the store's thread), after a short jittered pause from the second one on, until the command's deadline. A
     * store failure (but for a closed store) is tried again the same way, after a back-off of up to a second, as a
     * redelivery that first looks up the command id: handing it back to the sender would let the aggregate's later
     * commands overtake it.
     *
     * @param command the command; its payload class must have a handler in this aggregate
     * @param workers runs the next try after a conflict
     * @return the handler's result (the aggregate id for a creation command); or whatever the handler throws, a
     *         {@link CommandRefusedException} for a refusal stored by an earlier delivery, a
     *         {@link CommandNotExecutedException} when conflicts lasted past the deadline, or a Gyre exception from
     *         loading or storing (a store failure once the deadline has passed)
     */
    @Override
    public CompletableFuture<@Nullable Object> handleAsync(CommandMessage command, Executor workers) {
        CompletableFuture<@Nullable Object> outcome = new CompletableFuture<>();
        try {
            CommandHandlerMember handler = model.commandHandler(command.payloadType());
            if (handler == null) {
                throw new IllegalArgumentException(model.type().getName() + " has no handler for "
                        + command.payloadType().getName());
            }
            StreamId stream = new StreamId(model.typeName(), command.routingKey());
            // Computed once for all the tries: it names the command, not the state it is decided on.
            String fingerprint = CommandFingerprint.of(serializer, command.payload());
            new Tries(handler, command, stream, fingerprint, workers, outcome).next();
        } catch (Throwable e) {
            outcome.completeExceptionally(e);
        }
        return outcome;
    }

    /** The tries of one command: each decides on the latest state it can see, until one is stored or answered. */
    private final class Tries {

        private final CommandHandlerMember handler;
        private final StreamId stream;
        private final @Nullable String fingerprint;
        private final Executor workers;
        private final CompletableFuture<@Nullable Object> outcome;
        private CommandMessage command;
        private int tries;
        private int storeFailures;

        Tries(CommandHandlerMember handler, CommandMessage command, StreamId stream, @Nullable String fingerprint,
              Executor workers, CompletableFuture<@Nullable Object> outcome) {
            this.handler = handler;
            this.command = command;
            this.stream = stream;
            this.fingerprint = fingerprint;
            this.workers = workers;
            this.outcome = outcome;
        }

        void next() {
            if (CallerRuns.isCallerRunning() && mustWaitForStore()) {
                // A caller that waits in sendAndWait decides only what needs no store read first: a load or a
                // look-up could hold it past its deadline (a pool's timeout), whereas a worker leaves the caller
                // waiting on its future, which the deadline completes. The turn is unchanged: still this command's.
                submitNext();
                return;
            }
            tries++;
            CompletableFuture<@Nullable Object> decided;
            try {
                decided = decide(handler, command, stream, fingerprint);
            } catch (Throwable e) {
                decided = CompletableFuture.failedFuture(e);
            }
            decided.whenComplete(this::settle);
        }

        private void settle(@Nullable Object value, @Nullable Throwable failure) {
            if (failure == null) {
                outcome.complete(value);
                return;
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            try {
                if (cause instanceof ConcurrencyConflictException) {
                    // Decided on state the store has moved past: nothing was stored; decide again on fresh state.
                    cache.remove(stream.aggregateId());
                    if (command.isLate()) {
                        outcome.completeExceptionally(new CommandNotExecutedException(command + " met " + tries
                                + " concurrency conflict(s) on " + stream + " until its deadline passed; nothing of "
                                + "it was stored", command.commandId()));
                        return;
                    }
                    retryAfter(conflictPauseMillis(tries, command));
                } else if (cause instanceof EventStoreClosedException closed) {
                    // Not retried: waiting cannot reopen the store. The store says whether this try's append may have
                    // been written; an earlier try of this turn that failed on the store may have been, too (which
                    // step of it failed is not known here), so the command's outcome is then unknown.
                    // A command id the caller chose may be a re-send of one an earlier send stored: the closed store
                    // refused this try's look-up of it, which says nothing of that one.
                    outcome.completeExceptionally(closed.mayHaveBeenStored()
                            || (storeFailures == 0 && !command.callerChosenId()) ? closed
                            : new EventStoreClosedException(command + " on " + stream + ": the event store closed "
                            + (storeFailures > 0 ? "after " + storeFailures + " failed tr" + (storeFailures == 1 ? "y"
                            : "ies") + " whose append may have been written" : "before an earlier send under the "
                            + "caller's command id " + command.commandId() + " could be looked up")
                            + ", so whether it was stored is unknown", closed, true));
                } else if (cause instanceof EventStoreException storeFailure && mayRetryAfterStoreFailure()) {
                    // The store failed to load, confirm or append (a lost connection, a pool timeout, a fail-over).
                    // Retried here, inside the aggregate's turn, so that the aggregate's later commands still wait
                    // behind this one: handed back to the sender, it would be retried behind them (I3). The append
                    // may have been written before the failure, so the next try is a redelivery: it looks up the
                    // command id first and answers with the stored outcome if there is one.
                    cache.remove(stream.aggregateId());
                    storeFailures++;
                    log.debug("{} on {}: store failure {} ({}), trying again in place", command, stream,
                            storeFailures, storeFailure.getMessage());
                    command = command.withAttempt(command.attempt() + 1);
                    retryAfter(storeFailurePauseMillis(storeFailures, command));
                } else if (cause instanceof StoredEarlier earlier) {
                    forgetIfBehind(stream, earlier.record);
                    outcome.complete(answer(earlier.record));
                } else if (cause instanceof DuplicateCommandException duplicate) {
                    // An earlier delivery stored its decision while this one ran (it was still alive across a
                    // partition, or on a paused node): its decision stands, this one is dropped.
                    cache.remove(stream.aggregateId());
                    outcome.complete(answer(checkSameCommand(duplicate.stored(), fingerprint)));
                } else {
                    outcome.completeExceptionally(cause);
                }
            } catch (Throwable e) {
                outcome.completeExceptionally(e);
            }
        }

        /**
         * Until the command's deadline; a command without one (a direct call, not through a gateway) gets
         * {@value #MAX_STORE_FAILURES_WITHOUT_DEADLINE} tries, and then the failure.
         */
        private boolean mayRetryAfterStoreFailure() {
            return command.deadline() != null ? !command.isLate()
                    : storeFailures < MAX_STORE_FAILURES_WITHOUT_DEADLINE;
        }

        /** @return true when deciding this try starts by reading the store: an uncached aggregate, a redelivery */
        private boolean mustWaitForStore() {
            return handler.creation() || command.mayHaveRunBefore() || cache.get(stream.aggregateId()) == null;
        }

        /** Runs the next try on the workers, after a scheduled pause (never a sleeping worker). */
        private void retryAfter(long pauseMillis) {
            if (pauseMillis == 0) {
                submitNext();
            } else {
                CompletableFuture.delayedExecutor(pauseMillis, TimeUnit.MILLISECONDS, runnable -> submitNext())
                        .execute(() -> { });
            }
        }

        /**
         * Workers refuse work once the node's bus has stopped: the command then ends at once, as one the closing bus
         * may have run (an earlier try may have been stored), instead of trying on until its deadline.
         */
        private void submitNext() {
            try {
                workers.execute(this::next);
            } catch (RejectedExecutionException stopped) {
                outcome.completeExceptionally(new CommandBusClosedException("The command bus closed while " + command
                        + " was to be tried again on " + stream + " after " + tries + " tries; an earlier try may "
                        + "have been stored: send it again under command id " + command.commandId()
                        + " to learn its outcome"));
            }
        }
    }

    /**
     * The pause before the next try after the {@code failures}-th store failure in a row: 10 ms, doubling up to
     * {@value #MAX_STORE_FAILURE_BACKOFF_MILLIS} ms, less up to half of it at random, so that the aggregates waiting
     * on one outage do not all try again at once; never past the command's deadline.
     */
    private static long storeFailurePauseMillis(int failures, CommandMessage command) {
        long ceiling = Math.min(MAX_STORE_FAILURE_BACKOFF_MILLIS, 10L << Math.min(failures - 1, 10));
        long millis = ceiling - ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
        if (command.deadline() != null) {
            millis = Math.min(millis, TimeUnit.NANOSECONDS.toMillis(Math.max(0, command.deadline().remainingNanos())));
        }
        return millis;
    }

    /**
     * A command answered from the store changed nothing here. The loaded aggregate stays valid when it already
     * holds the stored decision's events (a client re-sending a key this node decided, the common case); otherwise
     * another node decided it and this state is behind the store.
     */
    private void forgetIfBehind(StreamId stream, CommandRecord stored) {
        AggregateCache.Entry cached = cache.get(stream.aggregateId());
        if (cached != null && cached.lastSequence() < stored.lastSequence()) {
            cache.remove(stream.aggregateId());
        }
    }

    /**
     * A conflict means another writer is active on the aggregate (a partition, a rebalance). The first retry runs
     * at once; further ones wait a little, with jitter, so two writers do not keep colliding. The wait is a
     * scheduled delay, not a sleeping worker.
     */
    private static long conflictPauseMillis(int tries, CommandMessage command) {
        if (tries < 2) {
            return 0;
        }
        long millis = ThreadLocalRandom.current().nextLong(Math.min(1L << Math.min(tries, 10),
                MAX_CONFLICT_BACKOFF_MILLIS) + 1);
        if (command.deadline() != null) {
            millis = Math.min(millis, TimeUnit.NANOSECONDS.toMillis(Math.max(0, command.deadline().remainingNanos())));
        }
        return millis;
    }

    /** An earlier delivery of the command is stored: its outcome is the answer. */
    private static final class StoredEarlier extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient CommandRecord record;

        StoredEarlier(CommandRecord record) {
            super(null, null, false, false);
            this.record = record;
        }
    }

    /**
     * Decides on the calling thread; the stage completes when the decision is stored, with the cache updated.
     * Throws what is known before anything goes to the store.
     */
    private CompletableFuture<@Nullable Object> decide(CommandHandlerMember handler, CommandMessage command,
                                                       StreamId stream, @Nullable String fingerprint)
            throws Exception {
        return handler.creation() ? create(handler, command, stream, fingerprint)
                : update(handler, command, stream, fingerprint);
    }

    private CompletableFuture<@Nullable Object> create(CommandHandlerMember handler, CommandMessage command,
                                                       StreamId stream, @Nullable String fingerprint)
            throws Exception {
        AggregateCache.Entry cached = cache.get(stream.aggregateId());
        long head = cached != null ? cached.lastSequence() : store.lastSequence(stream);
        lookUpEarlierDecision(command, stream, fingerprint);
        if (head >= 0) {
            AggregateAlreadyExistsException exists = new AggregateAlreadyExistsException(model.typeName(),
                    stream.aggregateId());
            confirmWithoutEvents(command, fingerprint, stream, head, cached == null, null, exists);
            throw exists;
        }
        Object instance;
        List<AppliedEvent> applied;
        try (Invocation invocation = Invocation.live(model, null)) {
            try {
                instance = Objects.requireNonNull(invoke(handler, null, command), "constructor result");
            } catch (Exception e) {
                if (isDecision(e)) {
                    confirmWithoutEvents(command, fingerprint, stream, -1, cached == null, null, e);
                }
                throw e;
            }
            invocation.attach(instance);
            applied = invocation.appliedEvents();
        }
        if (applied.isEmpty()) {
            throw new AggregateLifecycleException("Creation handler " + handler + " applied no event; an "
                    + "event-sourced aggregate exists only through its events");
        }
        String createdId = model.idOf(instance);
        if (!stream.aggregateId().equals(createdId)) {
            throw new AggregateLifecycleException("Creation handler " + handler + " left @AggregateId '"
                    + model.idFieldName() + "' " + (createdId == null ? "unset" : "as '" + createdId + "'")
                    + " but the command targets '" + stream.aggregateId() + "'; set it from the creation event in an "
                    + "@EventSourcingHandler");
        }
        return append(stream, ExpectedSequence.noStream(), command, fingerprint, applied, stream.aggregateId())
                .thenApply(result -> {
                    cache.put(stream.aggregateId(), new AggregateCache.Entry(instance, result.lastSequence()));
                    return stream.aggregateId();
                });
    }

    private CompletableFuture<@Nullable Object> update(CommandHandlerMember handler, CommandMessage command,
                                                       StreamId stream, @Nullable String fingerprint)
            throws Exception {
        AggregateCache.Entry loaded = cache.get(stream.aggregateId());
        boolean fresh = loaded == null;
        if (loaded == null) {
            try {
                loaded = load(stream);
            } catch (AggregateNotFoundException e) {
                lookUpEarlierDecision(command, stream, fingerprint);
                confirmWithoutEvents(command, fingerprint, stream, -1, true, null, e);
                throw e;
            }
        }
        lookUpEarlierDecision(command, stream, fingerprint);
        long head = loaded.lastSequence();
        Object result;
        List<AppliedEvent> applied;
        try (Invocation invocation = Invocation.live(model, loaded.instance())) {
            try {
                result = invoke(handler, loaded.instance(), command);
            } catch (Exception e) {
                boolean changed = !invocation.appliedEvents().isEmpty();
                if (changed) {
                    // The instance holds events of a command that failed: never reuse it.
                    cache.remove(stream.aggregateId());
                }
                if (isDecision(e)) {
                    confirmWithoutEvents(command, fingerprint, stream, head, fresh, null, e);
                }
                if (!changed) {
                    // Nothing was applied, so the state is what it was before the command, whatever the failure:
                    // keep it loaded, so that a business refusal costs the next command no replay of the stream.
                    cache.put(stream.aggregateId(), loaded);
                }
                throw e;
            }
            applied = invocation.appliedEvents();
        }
        if (applied.isEmpty()) {
            confirmWithoutEvents(command, fingerprint, stream, head, fresh, result, null);
            cache.put(stream.aggregateId(), loaded);
            return CompletableFuture.completedFuture(result);
        }
        CompletableFuture<AppendResult> appended;
        try {
            appended = append(stream, ExpectedSequence.exactly(head), command, fingerprint, applied, result);
        } catch (RuntimeException e) {
            appended = CompletableFuture.failedFuture(e);
        }
        Object instance = loaded.instance();
        return appended.whenComplete((stored, failure) -> {
            if (failure == null) {
                cache.put(stream.aggregateId(), new AggregateCache.Entry(instance, stored.lastSequence()));
            } else {
                // The instance holds the events that were not stored: never reuse it.
                cache.remove(stream.aggregateId());
            }
        }).thenApply(stored -> result);
    }

    /**
     * A handler's exception is a decision on the state, to be stored as the command's final outcome: a business
     * refusal, or Gyre's own "not found" / "already exists". Gyre's transient failures (a store briefly away) and
     * programming errors (an event that cannot be applied or serialized) are not decisions and are never stored.
     */
    private static boolean isDecision(Exception e) {
        return !(e instanceof GyreTransientException) && !(e instanceof AggregateLifecycleException)
                && !(e instanceof io.gyre.serialization.SerializationException)
                && !(e instanceof io.gyre.aggregate.AggregateDefinitionException);
    }

    /**
     * Has the store confirm a decision that stores no event, made on the stream at {@code head}: throws
     * {@link ConcurrencyConflictException} when the stream has moved since, so that the decision is made again.
     * When another delivery of the command may exist, the decision is stored under the command id, so that the
     * first one stays final; otherwise the state it was made on is confirmed by reading the stream's last sequence
     * number, or not at all when it was read from the store for this very decision.
     */
    private void confirmWithoutEvents(CommandMessage command, @Nullable String fingerprint, StreamId stream, long head,
                                      boolean freshlyRead,
                                      @Nullable Object result, @Nullable Exception refusal) {
        if (command.mayHaveRunBefore()) {
            CommandOutcome outcome = refusal != null ? CommandOutcome.Refusal.of(refusal)
                    : CommandOutcome.Result.of(result == null ? null : serializeResult(result));
            store.append(new AppendRequest(stream, ExpectedSequence.exactly(head), command.commandId(), List.of(),
                    outcome, fingerprint));
            return;
        }
        if (freshlyRead) {
            return;
        }
        long actual = store.lastSequence(stream);
        if (actual != head) {
            throw new ConcurrencyConflictException(stream, head, actual);
        }
    }

    /**
     * For a command that may have been decided before, throws its stored decision, or the refusal of a different
     * command that reuses its id.
     */
    private void lookUpEarlierDecision(CommandMessage command, StreamId stream, @Nullable String fingerprint)
            throws StoredEarlier {
        if (command.mayHaveRunBefore()) {
            Optional<CommandRecord> stored = store.findCommand(stream, command.commandId());
            if (stored.isPresent()) {
                throw new StoredEarlier(checkSameCommand(stored.get(), fingerprint));
            }
        }
    }

    /**
     * A stored decision answers only the command it was made for: handing it to another command under the same id
     * would tell that caller its command ran when it never did. Stores compare fingerprints themselves when they
     * append; this covers the look-up before deciding, and a store that keeps fingerprints but does not compare.
     */
    private static CommandRecord checkSameCommand(CommandRecord stored, @Nullable String fingerprint) {
        if (fingerprint != null && stored.isOtherCommandThan(fingerprint)) {
            throw new CommandIdReusedException(stored, fingerprint);
        }
        return stored;
    }

    private @Nullable Object answer(CommandRecord stored) {
        if (stored.outcome() instanceof CommandOutcome.Result result) {
            SerializedValue value = result.value();
            return value == null ? null : serializer.deserialize(value);
        }
        CommandOutcome.Refusal refusal = (CommandOutcome.Refusal) stored.outcome();
        if (refusal.exceptionType().equals(AggregateNotFoundException.class.getName())) {
            throw new AggregateNotFoundException(model.typeName(), stored.stream().aggregateId());
        }
        if (refusal.exceptionType().equals(AggregateAlreadyExistsException.class.getName())) {
            throw new AggregateAlreadyExistsException(model.typeName(), stored.stream().aggregateId());
        }
        throw new CommandRefusedException(refusal.exceptionType(), refusal.message(),
                "decided earlier under command id " + stored.commandId());
    }

    /**
     * Sources an aggregate from its latest usable snapshot and the events after it, or from all its events
     * ({@link AggregateLoader}).
     *
     * @param stream the aggregate
     * @return the instance and its last sequence number
     * @throws AggregateNotFoundException when the aggregate has no events
     */
    public AggregateCache.Entry load(StreamId stream) {
        return loader.load(stream).entry();
    }

    /**
     * Serializes the events on the calling thread and hands them to the store, which stores them later; or, on the
     * thread of a caller that waits for this very command ({@link CallerRuns#isCallerRunning()}), stores them
     * before it returns ({@link EventStore#append}): that thread would only sleep until a store's thread woke it, and
     * the store may write on it instead (the JDBC store does when a writer's place is free), which saves two thread
     * switches per command. The store bounds that write by the command's deadline ({@link EventStore#appendWithin}:
     * the JDBC store cancels a write the database holds past it, and nothing is stored); with less than
     * {@link #MIN_TIME_TO_WRITE_AS_CALLER} left the append goes to the store's threads instead.
     */
    private CompletableFuture<AppendResult> append(StreamId stream, ExpectedSequence expected, CommandMessage command,
                                                   @Nullable String fingerprint, List<AppliedEvent> applied,
                                                   @Nullable Object result) {
        SerializedValue storedResult = result == null ? null : serializeResult(result);
        Instant now = clock.instant();
        List<EventData> events = new ArrayList<>(applied.size());
        for (AppliedEvent event : applied) {
            SerializedValue payload = serializer.serializeForStorage(event.payload());
            events.add(new EventData(Ids.newId(), payload.type(), payload.data(),
                    serializer.serializeMetadata(event.metadata()), now,
                    serializer.revisionOf(event.payload().getClass())));
        }
        AppendRequest request = new AppendRequest(stream, expected, command.commandId(), events,
                CommandOutcome.Result.of(storedResult), fingerprint);
        if (CallerRuns.isCallerRunning()) {
            Deadline deadline = command.deadline();
            if (deadline == null) {
                try {
                    return CompletableFuture.completedFuture(store.append(request));
                } catch (RuntimeException e) {
                    return CompletableFuture.failedFuture(e);
                }
            }
            Duration left = deadline.remaining();
            // Too little time left to write and be told: the store's threads write it, and the caller waits for its
            // command, which the deadline answers.
            return left.compareTo(MIN_TIME_TO_WRITE_AS_CALLER) < 0 ? store.appendAsync(request)
                    : store.appendWithin(request, left);
        }
        return store.appendAsync(request);
    }

    private SerializedValue serializeResult(Object result) {
        try {
            return serializer.serializeForStorage(result);
        } catch (UnregisteredTypeException e) {
            throw new UnregisteredTypeException("The result of " + model.type().getSimpleName() + "'s handler is a "
                    + result.getClass().getName() + ", which is not registered: results are stored with the events "
                    + "(to acknowledge a re-sent command) and sent across the cluster, so return null, a JDK value "
                    + "(String, a number, Boolean, UUID, java.time) or a type registered with Gyre.builder().types(...)");
        }
    }

    private static @Nullable Object invoke(CommandHandlerMember handler, @Nullable Object aggregate,
                                           CommandMessage command) throws Exception {
        try {
            return handler.invoke(aggregate, command);
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("Handler " + handler + " threw " + e, e);
        }
    }
}
