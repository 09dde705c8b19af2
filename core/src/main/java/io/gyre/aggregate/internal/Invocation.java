package io.gyre.aggregate.internal;

import io.gyre.Metadata;
import io.gyre.aggregate.AggregateLifecycleException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The scope of one command handler (live) or one sourcing run on one aggregate, bound to the current thread so
 * that the static {@code AggregateLifecycle.apply} finds it. Internal: not part of Gyre's API.
 *
 * <p>Live: each applied event is recorded and immediately applied to the instance; an event applied from
 * inside an event sourcing handler is applied after the current one finishes; events applied inside a
 * creation constructor are applied once the constructor has returned the instance. Sourcing: applying is
 * ignored, because events that handlers applied while live are already in the stream being read.
 */
public final class Invocation implements AutoCloseable {

    private static final ThreadLocal<@Nullable Invocation> CURRENT = new ThreadLocal<>();

    private final AggregateModel<?> model;
    private final boolean live;
    private final @Nullable Invocation previous;
    private final List<AppliedEvent> applied = new ArrayList<>();
    /** Sized for the usual command, which applies an event or two (the default would be 16 slots). */
    private final ArrayDeque<AppliedEvent> pending = new ArrayDeque<>(2);
    private @Nullable Object instance;
    private boolean applying;

    private Invocation(AggregateModel<?> model, @Nullable Object instance, boolean live) {
        this.model = model;
        this.instance = instance;
        this.live = live;
        this.previous = CURRENT.get();
        CURRENT.set(this);
    }

    /**
     * Opens the scope of a command handler.
     *
     * @param model    the aggregate's model
     * @param instance the aggregate, or null while a creation constructor runs
     * @return the scope, to close when the handler returns
     */
    public static Invocation live(AggregateModel<?> model, @Nullable Object instance) {
        return new Invocation(model, instance, true);
    }

    /**
     * Opens the scope of sourcing an aggregate from its events.
     *
     * @param model    the aggregate's model
     * @param instance the aggregate being sourced
     * @return the scope, to close when sourcing ends
     */
    public static Invocation sourcing(AggregateModel<?> model, Object instance) {
        return new Invocation(model, instance, false);
    }

    /**
     * Applies an event in the current thread's scope.
     *
     * @param event    the event
     * @param metadata its metadata
     * @throws AggregateLifecycleException when no command handler is running on this thread
     */
    public static void applyInCurrent(Object event, Metadata metadata) {
        Invocation current = CURRENT.get();
        if (current == null) {
            throw new AggregateLifecycleException("AggregateLifecycle.apply(" + event.getClass().getSimpleName()
                    + ") was called outside a @CommandHandler; apply events only while handling a command");
        }
        current.apply(new AppliedEvent(event, metadata));
    }

    /**
     * Hands over the instance a creation constructor returned and applies the events it applied so far.
     *
     * @param created the new aggregate
     */
    public void attach(Object created) {
        this.instance = created;
        drain();
    }

    /**
     * Applies a stored event while sourcing.
     *
     * @param event    the event
     * @param metadata its metadata
     */
    public void source(Object event, Metadata metadata) {
        model.applyEvent(requireInstance(), event, metadata);
    }

    /** @return the events applied so far, in the order they were applied */
    public List<AppliedEvent> appliedEvents() {
        return List.copyOf(applied);
    }

    private void apply(AppliedEvent event) {
        if (!live) {
            return;
        }
        applied.add(event);
        pending.add(event);
        if (instance != null && !applying) {
            drain();
        }
    }

    private void drain() {
        applying = true;
        try {
            AppliedEvent next;
            while ((next = pending.poll()) != null) {
                model.applyEvent(requireInstance(), next.payload(), next.metadata());
            }
        } finally {
            applying = false;
        }
    }

    private Object requireInstance() {
        Object target = instance;
        if (target == null) {
            throw new IllegalStateException("no aggregate instance in this invocation");
        }
        return target;
    }

    @Override
    public void close() {
        // Set, never removed: removing dropped the thread's entry, so the next command's scope found none, built a
        // new one, and looked it up past the miss again (a visible share of a command's CPU on a busy thread). A
        // null entry holds nothing.
        CURRENT.set(previous);
    }
}
