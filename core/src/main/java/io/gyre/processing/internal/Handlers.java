package io.gyre.processing.internal;

import io.gyre.processing.ProcessorDefinitionException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The handler objects of one processor, inspected when they are given to its builder. Immutable. Internal: not part
 * of Gyre's API.
 */
public final class Handlers {

    private final String processor;
    private final List<HandlerObject> objects;

    private Handlers(String processor, List<HandlerObject> objects) {
        this.processor = processor;
        this.objects = List.copyOf(objects);
    }

    /**
     * Inspects handler objects.
     *
     * @param processor the processor's name, for messages
     * @param targets   the handler objects, at least one, each once
     * @return their model
     * @throws ProcessorDefinitionException when one breaks a rule, none is given, or one is given twice
     */
    public static Handlers inspect(String processor, List<?> targets) {
        Objects.requireNonNull(targets, "handlers");
        if (targets.isEmpty()) {
            throw new ProcessorDefinitionException("Processor '" + processor + "' was given no handler; pass at "
                    + "least one object with @EventHandler methods");
        }
        Set<Object> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        List<HandlerObject> objects = new ArrayList<>();
        for (Object target : targets) {
            Objects.requireNonNull(target, "handler");
            if (!seen.add(target)) {
                throw new ProcessorDefinitionException("Processor '" + processor + "' was given the same "
                        + target.getClass().getName() + " instance twice; it would handle every event twice");
            }
            objects.add(HandlerInspector.inspect(processor, target));
        }
        return new Handlers(processor, objects);
    }

    /**
     * @param more further handler objects
     * @return a model of these handlers and the further ones
     */
    public Handlers with(List<?> more) {
        List<Object> targets = new ArrayList<>(targets());
        targets.addAll(more);
        return inspect(processor, targets);
    }

    /** @return the handler objects in the order given */
    public List<Object> targets() {
        return objects.stream().map(HandlerObject::target).toList();
    }

    List<HandlerObject> objects() {
        return objects;
    }

    /**
     * @return the concrete classes the handlers' event parameters name (a sealed type through its permitted
     *         subclasses), to register for serialization
     */
    public Set<Class<?>> eventTypes() {
        Set<Class<?>> types = new LinkedHashSet<>();
        for (HandlerObject object : objects) {
            for (HandlerMethod method : object.methods()) {
                collectConcrete(method.eventType(), types);
            }
        }
        return types;
    }

    private static void collectConcrete(Class<?> type, Set<Class<?>> into) {
        if (!type.isInterface() && !Modifier.isAbstract(type.getModifiers())) {
            into.add(type);
        }
        if (type.isSealed()) {
            for (Class<?> permitted : type.getPermittedSubclasses()) {
                collectConcrete(permitted, into);
            }
        }
    }

    /**
     * Checks what the handlers take against what the processor hands out.
     *
     * @param resourceType the resource of the processor's delivery, null when it hands out none
     * @param tokens       true when events have a token (tracking processors)
     * @param fix          how to give handlers the resource, for the message
     * @throws ProcessorDefinitionException naming the first method that takes what it cannot get
     */
    public void checkParameters(@Nullable Class<?> resourceType, boolean tokens, String fix) {
        for (HandlerObject object : objects) {
            for (HandlerMethod method : object.methods()) {
                Class<?> wanted = method.resourceType();
                if (wanted != null) {
                    checkResource("@EventHandler " + method.description(), wanted, resourceType, fix);
                }
                if (!tokens && method.parameters().contains(HandlerParameter.TOKEN)) {
                    throw new ProcessorDefinitionException("@EventHandler " + method.description() + " in processor '"
                            + processor + "' takes a TrackingToken, but a subscribing processor runs right after the "
                            + "append, before any reader has placed the event in the log; use a tracking processor, "
                            + "or take EventContext, whose token is null here");
                }
            }
            for (HandlerObject.ResetMethod reset : object.resetMethods()) {
                Class<?> wanted = reset.resourceType();
                if (wanted != null) {
                    checkResource("@ResetHandler " + reset.description(), wanted, resourceType, fix);
                }
            }
        }
    }

    private void checkResource(String method, Class<?> wanted, @Nullable Class<?> available, String fix) {
        if (available == null) {
            throw new ProcessorDefinitionException(method + " in processor '" + processor + "' takes a "
                    + wanted.getName() + ", which is not an event handler parameter (Metadata, StreamId, "
                    + "TrackingToken, EventContext) nor handed out by this processor's delivery; " + fix);
        }
        if (!wanted.isAssignableFrom(available)) {
            throw new ProcessorDefinitionException(method + " in processor '" + processor + "' takes a "
                    + wanted.getName() + ", but the processor's delivery hands out a " + available.getName());
        }
    }

    @Override
    public String toString() {
        return objects.toString();
    }
}
