package io.gyre.command;

import io.gyre.command.internal.KeyedSerialExecutor;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands on this node. Commands for one aggregate (one routing key) run one at a time in arrival
 * order; commands for different aggregates run in parallel on a fixed pool of worker threads. There is no
 * thread per aggregate and no global lock.
 *
 * <p>Back-pressure: at most {@link Builder#maxPendingCommands(int) maxPendingCommands} accepted commands may
 * be unfinished at once; beyond that a command is refused at once with a {@link CommandBusOverloadedException}
 * (transient, so the gateway retries after a back-off) instead of waiting in an unbounded queue.
 *
 * <p>Futures complete on the worker thread that ran the command: use the {@code ...Async} stages of
 * {@link CompletableFuture} for work that blocks.
 */
public final class LocalCommandBus implements CommandBus {

    private static final Logger log = LoggerFactory.getLogger(LocalCommandBus.class);
    private static final AtomicInteger BUS_COUNT = new AtomicInteger();

    private final Map<Class<?>, CommandHandlerFunction> handlers = new ConcurrentHashMap<>();
    private final int maxPendingCommands;
    private final Duration shutdownTimeout;
    private final ThreadPoolExecutor pool;
    private final KeyedSerialExecutor executor;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile boolean closed;

    private LocalCommandBus(Builder builder) {
        this.maxPendingCommands = builder.maxPendingCommands;
        this.shutdownTimeout = builder.shutdownTimeout;
        this.pool = new ThreadPoolExecutor(builder.workers, builder.workers, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threadFactory(builder.threadNamePrefix != null ? builder.threadNamePrefix
                        : "gyre-command-" + BUS_COUNT.incrementAndGet() + "-"));
        this.executor = new KeyedSerialExecutor(pool);
    }

    /** @return a builder with the defaults: 2 workers per processor (at least 4), 10,000 pending commands */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Registers the handler of one command type.
     *
     * @param commandType the command class
     * @param handler     runs commands of that class
     * @throws IllegalArgumentException when the type already has a handler
     */
    public void subscribe(Class<?> commandType, CommandHandlerFunction handler) {
        Objects.requireNonNull(commandType, "commandType");
        Objects.requireNonNull(handler, "handler");
        if (handlers.putIfAbsent(commandType, handler) != null) {
            throw new IllegalArgumentException("Command type " + commandType.getName() + " already has a handler");
        }
    }

    /** @return the command classes this bus has handlers for */
    public Set<Class<?>> commandTypes() {
        return Set.copyOf(handlers.keySet());
    }

    /** @return the number of accepted commands not finished yet */
    public int pendingCommands() {
        return pending.get();
    }

    @Override
    public CompletableFuture<Object> dispatch(CommandMessage command) {
        return dispatch(command, NO_CHECK);
    }

    private static final Consumer<CommandMessage> NO_CHECK = command -> { };

    /**
     * Runs a command after a check made on the worker thread, right before the handler and after every earlier
     * command of the same aggregate: a distributed bus checks there that this node still owns the aggregate, so
     * that a command queued before ownership moved never runs on a node that lost it.
     *
     * @param command the command
     * @param check   throws to refuse the command, which then fails with that exception and never runs
     * @return the handler's result, or its failure
     */
    public CompletableFuture<Object> dispatch(CommandMessage command, Consumer<CommandMessage> check) {
        CommandHandlerFunction handler = handlers.get(command.payloadType());
        if (handler == null) {
            return CompletableFuture.failedFuture(new NoHandlerForCommandException("No handler for command "
                    + command.payloadType().getName() + " on this node; handled types: "
                    + handlers.keySet().stream().map(Class::getSimpleName).sorted().toList()));
        }
        if (closed) {
            return CompletableFuture.failedFuture(closedException(command));
        }
        if (pending.incrementAndGet() > maxPendingCommands) {
            pending.decrementAndGet();
            return CompletableFuture.failedFuture(new CommandBusOverloadedException("Command bus is full: "
                    + maxPendingCommands + " commands are pending (maxPendingCommands); " + command
                    + " was refused. Add nodes or workers, or raise maxPendingCommands"));
        }
        CompletableFuture<Object> result = new CompletableFuture<>();
        try {
            executor.execute(command.routingKey(), () -> run(handler, check, command, result));
        } catch (RejectedExecutionException e) {
            pending.decrementAndGet();
            result.completeExceptionally(closedException(command));
        }
        return result;
    }

    private void run(CommandHandlerFunction handler, Consumer<CommandMessage> check, CommandMessage command,
                     CompletableFuture<Object> result) {
        Object value = null;
        Throwable failure = null;
        try {
            check.accept(command);
            value = handler.handle(command);
        } catch (Throwable e) {
            failure = e;
        }
        // Capacity is released before the caller sees the outcome, so a caller that sends again at once is
        // never refused for a command that has already finished.
        pending.decrementAndGet();
        if (failure == null) {
            result.complete(value);
        } else {
            result.completeExceptionally(failure);
        }
    }

    private CommandBusClosedException closedException(CommandMessage command) {
        return new CommandBusClosedException("Local command bus is closed; " + command + " was not run");
    }

    /**
     * Stops taking commands, waits up to the shutdown timeout for the accepted ones to finish, then stops the
     * workers. Commands still running after the timeout are interrupted.
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
            log.warn("Closing the local command bus with {} commands still running after {}", pending.get(),
                    shutdownTimeout);
        }
        pool.shutdownNow();
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
         * @param workers threads that run commands, 1 to 1024; commands wait on the store, so more threads than
         *                processors pay off
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
         * @param maxPendingCommands accepted, unfinished commands beyond which new ones are refused, 1 to
         *                           10,000,000
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
         * @param shutdownTimeout how long {@link LocalCommandBus#close()} waits for accepted commands, 0 or more
         * @return this builder
         */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
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
