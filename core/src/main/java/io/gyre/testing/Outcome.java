package io.gyre.testing;

import io.gyre.aggregate.internal.AggregateModel;
import io.gyre.aggregate.internal.EventSourcedRepository;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * What one command did in an {@link AggregateFixture}: its result or exception and the events it stored.
 * Each {@code expect...} method throws an {@link AssertionError} describing the difference, or returns this
 * outcome for more checks.
 *
 * @param <A> the aggregate class
 */
public final class Outcome<A> {

    private final AggregateModel<A> model;
    private final @Nullable EventSourcedRepository<A> repository;
    private final @Nullable String aggregateId;
    private final @Nullable Object result;
    private final @Nullable Throwable failure;
    private final List<Object> events;
    private final @Nullable Object liveState;
    private boolean consistencyChecked;

    Outcome(AggregateModel<A> model, @Nullable EventSourcedRepository<A> repository, @Nullable String aggregateId,
            @Nullable Object result, @Nullable Throwable failure, List<Object> events, @Nullable Object liveState) {
        this.model = model;
        this.repository = repository;
        this.aggregateId = aggregateId;
        this.result = result;
        this.failure = failure;
        this.events = List.copyOf(events);
        this.liveState = liveState;
    }

    static <A> Outcome<A> failed(AggregateModel<A> model, Throwable failure) {
        return new Outcome<>(model, null, null, null, failure, List.of(), null);
    }

    /** @return the events the command stored, in order */
    public List<Object> events() {
        return events;
    }

    /** @return the handler's result, null when it failed or returned nothing */
    public @Nullable Object result() {
        return result;
    }

    /** @return the command's exception, or null when it succeeded */
    public @Nullable Throwable exception() {
        return failure;
    }

    /**
     * @param expected the events, in order, compared with {@code equals}
     * @return this outcome
     * @throws AssertionError when the command failed or stored other events
     */
    public Outcome<A> expectEvents(Object... expected) {
        expectSuccess();
        List<Object> wanted = Arrays.asList(expected);
        if (!wanted.equals(events)) {
            throw new AssertionError("Expected events " + wanted + "\n but the command stored " + events);
        }
        return this;
    }

    /**
     * @return this outcome
     * @throws AssertionError when the command stored any event
     */
    public Outcome<A> expectNoEvents() {
        assertConsistent();
        if (!events.isEmpty()) {
            throw new AssertionError("Expected no events but the command stored " + events);
        }
        return this;
    }

    /**
     * @return this outcome
     * @throws AssertionError when the command threw
     */
    public Outcome<A> expectSuccess() {
        assertConsistent();
        if (failure != null) {
            throw new AssertionError("Expected the command to succeed but it threw " + failure, failure);
        }
        return this;
    }

    /**
     * @param expected the handler's result, compared with {@code equals}
     * @return this outcome
     * @throws AssertionError when the command failed or returned something else
     */
    public Outcome<A> expectResult(@Nullable Object expected) {
        expectSuccess();
        if (!Objects.equals(expected, result)) {
            throw new AssertionError("Expected result " + expected + " but the command returned " + result);
        }
        return this;
    }

    /**
     * @param type the exception type expected (a subclass also matches)
     * @return this outcome
     * @throws AssertionError when the command succeeded, threw something else, or stored events anyway
     */
    public Outcome<A> expectException(Class<? extends Throwable> type) {
        assertConsistent();
        if (failure == null) {
            throw new AssertionError("Expected " + type.getName() + " but the command succeeded with result "
                    + result + " and events " + events);
        }
        if (!type.isInstance(failure)) {
            throw new AssertionError("Expected " + type.getName() + " but the command threw " + failure, failure);
        }
        if (!events.isEmpty()) {
            throw new AssertionError("The command threw " + failure + " yet stored events " + events);
        }
        return this;
    }

    /**
     * @param type            the exception type expected
     * @param messageFragment text the exception's message must contain
     * @return this outcome
     * @throws AssertionError as for {@link #expectException(Class)}, or when the message lacks the text
     */
    public Outcome<A> expectException(Class<? extends Throwable> type, String messageFragment) {
        expectException(type);
        String message = Objects.requireNonNull(failure).getMessage();
        if (message == null || !message.contains(messageFragment)) {
            throw new AssertionError("Expected the message of " + failure + " to contain '" + messageFragment + "'",
                    failure);
        }
        return this;
    }

    /**
     * Checks the aggregate's state after the command, sourced again from all its stored events.
     *
     * @param assertions checks on the state, for example AssertJ assertions
     * @return this outcome
     * @throws AssertionError when the aggregate does not exist, or from the assertions
     */
    public Outcome<A> expectState(Consumer<? super A> assertions) {
        assertConsistent();
        if (repository == null || aggregateId == null) {
            throw new AssertionError("No state to check: the command failed before reaching an aggregate: "
                    + failure);
        }
        Object state;
        try {
            state = repository.load(new io.gyre.eventstore.StreamId(model.typeName(), aggregateId)).instance();
        } catch (RuntimeException e) {
            throw new AssertionError("Aggregate '" + aggregateId + "' cannot be sourced: " + e, e);
        }
        assertions.accept(model.type().cast(state));
        return this;
    }

    private void assertConsistent() {
        if (consistencyChecked || liveState == null || repository == null || aggregateId == null) {
            return;
        }
        Object sourced;
        try {
            sourced = repository.load(new io.gyre.eventstore.StreamId(model.typeName(), aggregateId)).instance();
        } catch (RuntimeException e) {
            throw new AssertionError("Aggregate '" + aggregateId + "' cannot be sourced from its events: " + e, e);
        }
        String illegalStateChange = compare(liveState, sourced);
        if (illegalStateChange != null) {
            throw new AssertionError(illegalStateChange);
        }
        consistencyChecked = true;
    }

    /**
     * Compares the state a command handler left with the state its stored events produce; a difference means
     * the handler changed state outside an {@code @EventSourcingHandler}, which sourcing would not repeat.
     */
    private @Nullable String compare(Object live, Object sourced) {
        for (Class<?> c = live.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers()) || field.isSynthetic()) {
                    continue;
                }
                try {
                    field.setAccessible(true);
                    Object a = field.get(live);
                    Object b = field.get(sourced);
                    if (comparable(a, b) && !Objects.deepEquals(a, b)) {
                        return "Illegal state change in " + model.type().getSimpleName() + "." + field.getName()
                                + ": the command handler left " + describe(a) + " but its events, sourced again, give "
                                + describe(b) + ". Change state only in @EventSourcingHandler methods.";
                    }
                } catch (IllegalAccessException | InaccessibleObjectException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Values whose class keeps identity equality cannot be compared meaningfully, so they are skipped. */
    private static boolean comparable(@Nullable Object a, @Nullable Object b) {
        Object sample = a != null ? a : b;
        if (sample == null || sample.getClass().isArray()) {
            return true;
        }
        try {
            return sample.getClass().getMethod("equals", Object.class).getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static String describe(@Nullable Object value) {
        return value != null && value.getClass().isArray() ? Arrays.deepToString(new Object[] {value}) : "" + value;
    }
}
