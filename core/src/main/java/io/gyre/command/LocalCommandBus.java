package io.gyre.command;

import io.gyre.command.internal.Admission;
import io.gyre.command.internal.CallerRuns;
import io.gyre.command.internal.KeyedSerialExecutor;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands on this node. Commands for one aggregate run one at a time, in the order they were dispatched;
 * commands for different aggregates run in parallel on a fixed pool of worker threads. There is no thread per
 * aggregate and no global lock.
 *
 * <p><b>Capacity that waits.</b> At most {@link Builder#maxPendingCommands(int) maxPendingCommands} commands are
 * admitted to run at once, and at most {@link Builder#maxPendingPerAggregate(int) maxPendingPerAggregate} of one
 * aggregate. A command beyond that is never refused: it waits, in dispatch order, until there is room or its
 * deadline passes. A command of a full aggregate waits in that aggregate's own queue, so a hot aggregate slows only
 * its own callers. A command whose deadline passes before its turn is dropped unrun and fails with a
 * {@link CommandNotExecutedException}; one whose sender {@linkplain CommandDispatch#withdraw withdrew} it is dropped
 * silently.
 *
 * <p><b>Waiting without a thread.</b> A handler that waits for its store ({@link CommandHandlerFunction#handleAsync})
 * holds its aggregate's turn until it is done, but not its worker: the worker runs other aggregates meanwhile, so a
 * few workers keep many appends in flight, which a store can write together. A command counts as admitted, and
 * {@link #close()} waits for it, until it is done.
 *
 * <p><b>A waiting caller runs its own command.</b> When the gateway's {@code sendAndWait} dispatches a command whose
 * aggregate has nothing else queued on this node, the calling thread, which would only sleep until a worker had
 * decided it, decides it itself when that needs no store read first (a cached aggregate); a load, a creation, a
 * redelivery, a command queued behind others of its aggregate, a retry and a command from another node run on the
 * workers as before, so that a slow store never holds a caller past its deadline. Per aggregate the commands still
 * run one at a time, in dispatch order.
 *
 * <p>Deliveries complete on the thread that finished the command, a worker, a waiting caller or the store's; a
 * sender that completes caller-facing futures must hand off to its own executor (the gateway does).
 */
public final class LocalCommandBus implements CommandBus {

    private static final Logger log = LoggerFactory.getLogger(LocalCommandBus.class);
    private static final AtomicInteger BUS_COUNT = new AtomicInteger();
    private static final Consumer<CommandMessage> NO_CHECK = command -> { };

    private final Map<Class<?>, Subscription> handlers = new ConcurrentHashMap<>();
    private final Duration shutdownTimeout;
    private final ThreadPoolExecutor pool;
    private final KeyedSerialExecutor executor;
    private final Admission<Job> admission;
    private final AtomicInteger pending = new AtomicInteger();
    private final Executor workers = this::runOnWorker;
    /**
     * Where a running command continues after a wait (its next try after a conflict or a store failure): the
     * workers, and nowhere once close() has stopped them. A command still trying then ends at once, instead of
     * trying on the after-close thread until its deadline (a store that keeps failing was tried for the whole
     * deadline after the node closed).
     */
    private final Executor continuations = this::continueOnWorker;
    /**
     * Runs, one at a time, what reaches the workers after close() stopped them: a command still waiting for its
     * store, and the turns of the commands queued behind it, which then end as not run. Its thread exists only while
     * there is such work.
     */
    private final ThreadPoolExecutor afterStop = new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), threadFactory("gyre-command-after-close-"));
    private volatile boolean closed;
    /** Set once close() has stopped the workers: commands that have not started by then end as not run. */
    private volatile boolean stopped;

    private record Subscription(String aggregateType, CommandHandlerFunction handler) {
    }

    /** The turn key of an aggregate: its type and id, so two types with one id never wait for each other. */
    private record AggregateKey(String aggregateType, String aggregateId) {
    }

    private LocalCommandBus(Builder builder) {
        this.shutdownTimeout = builder.shutdownTimeout;
        this.pool = new ThreadPoolExecutor(builder.workers, builder.workers, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threadFactory(builder.threadNamePrefix != null ? builder.threadNamePrefix
                        : "gyre-command-" + BUS_COUNT.incrementAndGet() + "-"));
        // A caller that waits for its command (sendAndWait) starts the aggregate's queue itself, saving a hand-off.
        this.executor = new KeyedSerialExecutor(CallerRuns.or(workers));
        int perAggregate = Math.min(builder.maxPendingPerAggregate, builder.maxPendingCommands);
        this.admission = new Admission<>(builder.maxPendingCommands, perAggregate, job -> job.key, this::enqueue);
    }

    /**
     * @return a builder with the defaults: 2 workers per processor (at least 4), 10,000 commands admitted at once,
     *         32 of one aggregate
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Registers the handler of one command type.
     *
     * @param commandType   the command class
     * @param aggregateType the type name of the aggregate the command targets; commands of one aggregate (type and
     *                      id) run one at a time
     * @param handler       runs commands of that class
     * @throws IllegalArgumentException when the command type already has a handler
     */
    public void subscribe(Class<?> commandType, String aggregateType, CommandHandlerFunction handler) {
        Objects.requireNonNull(commandType, "commandType");
        Objects.requireNonNull(aggregateType, "aggregateType");
        Objects.requireNonNull(handler, "handler");
        if (handlers.putIfAbsent(commandType, new Subscription(aggregateType, handler)) != null) {
            throw new IllegalArgumentException("Command type " + commandType.getName() + " already has a handler");
        }
    }

    /** @return the command classes this bus has handlers for */
    public Set<Class<?>> commandTypes() {
        return Set.copyOf(handlers.keySet());
    }

    /**
     * @param commandType a command class
     * @return the type name of the aggregate that handles it, or null when this bus has no handler for it
     */
    public @Nullable String aggregateTypeOf(Class<?> commandType) {
        Subscription subscription = handlers.get(commandType);
        return subscription == null ? null : subscription.aggregateType();
    }

    /** @return the number of dispatched commands not finished yet: admitted, waiting or running */
    public int pendingCommands() {
        return pending.get();
    }

    /** @return the number of commands waiting for capacity (not admitted yet) */
    public int waitingCommands() {
        return admission.waiting();
    }

    @Override
    public CommandDispatch dispatch(CommandMessage command) {
        return dispatch(command, NO_CHECK);
    }

    /**
     * Runs a command after a check made on the worker thread, right before the handler and after every earlier
     * command of the same aggregate: a distributed bus checks there that this node still owns the aggregate, so
     * that a command queued before ownership moved never runs on a node that lost it.
     *
     * @param command the command
     * @param check   throws to refuse the command, which then fails with that exception, counted as not run
     * @return the delivery
     */
    public CommandDispatch dispatch(CommandMessage command, Consumer<CommandMessage> check) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(check, "check");
        Subscription subscription = handlers.get(command.payloadType());
        if (subscription == null) {
            return CommandDispatch.refused(command, new NoHandlerForCommandException("No handler for command "
                    + command.payloadType().getName() + " on this node; handled types: "
                    + handlers.keySet().stream().map(Class::getSimpleName).sorted().toList()));
        }
        if (closed) {
            return CommandDispatch.refused(command, closedException(command));
        }
        Job job = new Job(new AggregateKey(subscription.aggregateType(), command.routingKey()), command,
                subscription.handler(), check, new CommandDispatch(command));
        pending.incrementAndGet();
        admission.offer(job);
        return job.dispatch;
    }

    /** Admission's action, under its lock: queue the job behind its aggregate's earlier commands. */
    private void enqueue(Job job) {
        try {
            executor.executeAsync(job.key, job);
        } catch (RejectedExecutionException e) {
            // Only after close() stopped the workers; the node is gone, so its counts no longer matter.
            pending.decrementAndGet();
            job.dispatch.failNotRun(closedException(job.command));
        }
    }

    /** Runs a running command's next try on a worker; refused once close() has stopped them. */
    private void continueOnWorker(Runnable task) {
        if (stopped) {
            throw new RejectedExecutionException("the local command bus is closed");
        }
        runOnWorker(task);
    }

    /**
     * Runs a task on a worker. Once close() has stopped them, on the after-close thread instead: a command waiting
     * for its store must still finish, the aggregate's next turn must still be taken (to end its command as not
     * run), and the calling thread may be the store's writer, which must not block.
     */
    private void runOnWorker(Runnable task) {
        try {
            pool.execute(task);
        } catch (RejectedExecutionException e) {
            afterStop.execute(task);
        }
    }

    /**
     * One dispatched command on its way through admission and its aggregate's queue. Started on a worker (or on the
     * caller waiting for it), it returns the stage of its handler, which may complete later on another thread (the
     * store's writer): the aggregate's turn is held until then, and capacity is released then. The stage's value is
     * the command's answer (its delivery completed), which the aggregate's queue gives once the turn has ended, so a
     * caller that sends the aggregate's next command as soon as it is answered finds the aggregate idle.
     */
    private final class Job implements Supplier<CompletionStage<Runnable>> {

        private final AggregateKey key;
        private final CommandMessage command;
        private final CommandHandlerFunction handler;
        private final Consumer<CommandMessage> check;
        private final CommandDispatch dispatch;

        Job(AggregateKey key, CommandMessage command, CommandHandlerFunction handler, Consumer<CommandMessage> check,
            CommandDispatch dispatch) {
            this.key = key;
            this.command = command;
            this.handler = handler;
            this.check = check;
            this.dispatch = dispatch;
        }

        @Override
        public CompletionStage<Runnable> get() {
            CompletionStage<@Nullable Object> stage;
            try {
                if (command.isLate()) {
                    return answered(finish(null, new CommandNotExecutedException(command + " waited past its "
                            + "deadline on this node and was dropped unrun", command.commandId()), false));
                }
                if (stopped) {
                    return answered(finish(null, closedException(command), false));
                }
                if (!dispatch.start()) {
                    // Withdrawn by its sender, which has answered its caller already.
                    return answered(finish(null, null, false));
                }
                check.accept(command);
            } catch (Throwable e) {
                return answered(finish(null, e, false));
            }
            try {
                stage = Objects.requireNonNull(handler.handleAsync(command, continuations),
                        "the stage of handleAsync");
            } catch (Throwable e) {
                return answered(finish(null, e, true));
            }
            return stage.handle((value, failure) -> finish(value, failure == null ? null : unwrap(failure), true));
        }

        /**
         * Releases the command's capacity and returns its answer, which completes its delivery once the aggregate's
         * turn has ended: capacity first, then the turn, so that a caller that sends again at once is never held up
         * by a command that has already finished.
         */
        private Runnable finish(@Nullable Object value, @Nullable Throwable failure, boolean ran) {
            pending.decrementAndGet();
            admission.release(this);
            return () -> answer(value, failure, ran);
        }

        private void answer(@Nullable Object value, @Nullable Throwable failure, boolean ran) {
            if (!ran && failure == null) {
                return; // withdrawn
            }
            if (failure == null) {
                dispatch.complete(value);
            } else if (!ran || failure instanceof CommandNotExecutedException) {
                // Refused before the handler (not the owner, late), or given up by the handler before storing.
                if (!dispatch.withdraw(asRuntime(failure))) {
                    dispatch.failNotRun(failure);
                }
            } else {
                dispatch.completeExceptionally(failure);
            }
        }
    }

    private static CompletionStage<Runnable> answered(Runnable answer) {
        return CompletableFuture.completedFuture(answer);
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static RuntimeException asRuntime(Throwable failure) {
        return failure instanceof RuntimeException runtime ? runtime : new IllegalStateException(failure);
    }

    private CommandBusClosedException closedException(CommandMessage command) {
        return new CommandBusClosedException("Local command bus is closed; " + command + " was not run");
    }

    /**
     * Stops taking commands, waits up to the shutdown timeout for the accepted ones (admitted or waiting, or started
     * and waiting for their store) to finish, then stops the workers. Commands still running after the timeout are
     * interrupted; one still waiting for its store finishes when the store answers.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        long deadline = System.nanoTime() + shutdownTimeout.toNanos();
        while (pending.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (pending.get() > 0) {
            log.warn("Closing the local command bus with {} commands still pending after {}; those not started end "
                    + "as not run", pending.get(), shutdownTimeout);
        }
        stopped = true;
        // Tasks still queued for the workers are aggregates' turns: handed to the after-close thread, their commands
        // end as not run instead of never (a caller of dispatch would wait for ever, a remote sender until its
        // deadline, then be told the outcome is unknown).
        for (Runnable dropped : pool.shutdownNow()) {
            afterStop.execute(dropped);
        }
    }

    private static ThreadFactory threadFactory(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Configuration of a {@link LocalCommandBus}; each setter checks its value at once. */
    public static final class Builder {

        private int workers = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        private int maxPendingCommands = 10_000;
        private int maxPendingPerAggregate = 32;
        private Duration shutdownTimeout = Duration.ofSeconds(30);
        private @Nullable String threadNamePrefix;

        private Builder() {
        }

        /**
         * @param prefix the start of the worker threads' names, so thread dumps and logs tell nodes apart
         * @return this builder
         */
        public Builder threadNamePrefix(String prefix) {
            this.threadNamePrefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /**
         * @param workers threads that run commands, 1 to 1024, beside the callers of {@code sendAndWait}, which run
         *                their own when the aggregate is idle; an append of events does not hold a worker, which
         *                waits on the store only to load an aggregate that is not cached, to look up a re-sent
         *                command, or to confirm a decision that stores no event
         * @return this builder
         */
        public Builder workers(int workers) {
            if (workers < 1 || workers > 1024) {
                throw new IllegalArgumentException("workers must be between 1 and 1024, but was " + workers);
            }
            this.workers = workers;
            return this;
        }

        /**
         * @param maxPendingCommands commands admitted to run at once, 1 to 10,000,000; more wait for room, in order,
         *                           until their deadline
         * @return this builder
         */
        public Builder maxPendingCommands(int maxPendingCommands) {
            if (maxPendingCommands < 1 || maxPendingCommands > 10_000_000) {
                throw new IllegalArgumentException("maxPendingCommands must be between 1 and 10000000, but was "
                        + maxPendingCommands);
            }
            this.maxPendingCommands = maxPendingCommands;
            return this;
        }

        /**
         * @param maxPendingPerAggregate commands of one aggregate admitted at once, 1 to 10,000,000 (at most
         *                               maxPendingCommands is used); more wait in the aggregate's own queue
         * @return this builder
         */
        public Builder maxPendingPerAggregate(int maxPendingPerAggregate) {
            if (maxPendingPerAggregate < 1 || maxPendingPerAggregate > 10_000_000) {
                throw new IllegalArgumentException("maxPendingPerAggregate must be between 1 and 10000000, but was "
                        + maxPendingPerAggregate);
            }
            this.maxPendingPerAggregate = maxPendingPerAggregate;
            return this;
        }

        /**
         * @param shutdownTimeout how long {@link LocalCommandBus#close()} waits for accepted commands, 0 or more
         * @return this builder
         */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
            if (shutdownTimeout.isNegative()) {
                throw new IllegalArgumentException("shutdownTimeout must not be negative, but was " + shutdownTimeout);
            }
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /** @return a started bus with no handlers */
        public LocalCommandBus build() {
            return new LocalCommandBus(this);
        }
    }
}
