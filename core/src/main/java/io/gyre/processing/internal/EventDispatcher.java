package io.gyre.processing.internal;

import io.gyre.Metadata;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.EventContext;
import io.gyre.serialization.SerializedValue;
import io.gyre.serialization.Serializer;
import io.gyre.serialization.UnregisteredTypeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Calls a processor's handlers with a stored event: finds, once per stored type name, which method of which handler
 * object takes the event's class, then per event reads the payload (and the metadata, only when a handler asks for
 * it) and calls them in the order the objects were given. An event no handler takes is not even read. Thread-safe.
 * Internal: not part of Gyre's API.
 */
public final class EventDispatcher {

    private final String processor;
    private final Handlers handlers;
    private final Serializer serializer;
    private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();

    /**
     * @param processor  the processor's name
     * @param handlers   its handlers
     * @param serializer the node's serializer
     */
    public EventDispatcher(String processor, Handlers handlers, Serializer serializer) {
        this.processor = Objects.requireNonNull(processor, "processor");
        this.handlers = Objects.requireNonNull(handlers, "handlers");
        this.serializer = Objects.requireNonNull(serializer, "serializer");
    }

    /** The handler methods one stored type name goes to; empty when none takes it. */
    private record Route(List<HandlerObject> targets, List<HandlerMethod> methods, boolean needsMetadata,
                         boolean needsStream, boolean needsContext) {

        static final Route NONE = new Route(List.of(), List.of(), false, false, false);
    }

    /**
     * @param event a stored event
     * @return true when a handler takes it
     * @throws io.gyre.processing.ProcessorDefinitionException when several methods of one handler take it and none
     *                                                         is more specific
     */
    public boolean handles(StoredEvent event) {
        return !route(event.type()).methods().isEmpty();
    }

    /**
     * Calls every handler that takes the event.
     *
     * @param event    the event as stored
     * @param token    its place in the log, null in a subscribing processor
     * @param segment  its segment
     * @param resource the transactional delivery's resource, or null
     * @return true when a handler took it
     * @throws Throwable whatever a handler threw, or the failure to read the event
     */
    public boolean dispatch(StoredEvent event, @Nullable TrackingToken token, int segment, @Nullable Object resource)
            throws Throwable {
        Route route = route(event.type());
        if (route.methods().isEmpty()) {
            return false;
        }
        Object payload = serializer.deserialize(new SerializedValue(event.type(), event.payload()), event.revision());
        Metadata metadata = route.needsMetadata() ? serializer.deserializeMetadata(event.metadata()) : Metadata.empty();
        StreamId stream = route.needsStream() ? event.stream() : null;
        EventContext context = route.needsContext() ? new EventContext(processor, segment, event.stream(),
                event.sequence(), event.eventId(), event.commandId(), event.timestamp(), metadata, token) : null;
        List<HandlerObject> targets = route.targets();
        List<HandlerMethod> methods = route.methods();
        for (int i = 0; i < methods.size(); i++) {
            methods.get(i).invoker().invokeExact(targets.get(i).target(), payload, metadata, context, stream, token,
                    resource);
        }
        return true;
    }

    /**
     * Calls every {@code @ResetHandler} method.
     *
     * @param resource the transactional delivery's resource, or null
     * @throws Throwable whatever a reset handler threw
     */
    public void reset(@Nullable Object resource) throws Throwable {
        for (HandlerObject object : handlers.objects()) {
            for (HandlerObject.ResetMethod method : object.resetMethods()) {
                method.invoker().invokeExact(object.target(), resource);
            }
        }
    }

    private Route route(String typeName) {
        Route route = routes.get(typeName);
        if (route == null) {
            route = resolve(typeName);
            routes.putIfAbsent(typeName, route);
        }
        return route;
    }

    private Route resolve(String typeName) {
        Class<?> eventClass;
        try {
            eventClass = serializer.types().classOf(typeName);
        } catch (UnregisteredTypeException e) {
            // No handler can take a type nobody registered: its class is not known to this node.
            return Route.NONE;
        }
        List<HandlerObject> targets = new ArrayList<>();
        List<HandlerMethod> methods = new ArrayList<>();
        boolean metadata = false;
        boolean stream = false;
        boolean context = false;
        for (HandlerObject object : handlers.objects()) {
            HandlerMethod method = object.methodFor(eventClass);
            if (method != null) {
                targets.add(object);
                methods.add(method);
                metadata |= method.needsMetadata();
                stream |= method.parameters().contains(HandlerParameter.STREAM);
                context |= method.parameters().contains(HandlerParameter.CONTEXT);
            }
        }
        return methods.isEmpty() ? Route.NONE : new Route(List.copyOf(targets), List.copyOf(methods), metadata, stream,
                context);
    }
}
