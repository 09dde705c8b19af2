package io.gyre.aggregate.internal;

import io.gyre.Metadata;
import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateDefinitionException;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.AggregateLifecycleException;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.internal.TargetIdAccessor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Everything Gyre needs to know about one aggregate class, found by reflection once, when the class is
 * registered, and invoked afterwards through method handles only. Building the model checks every rule of
 * {@link Aggregate} and fails with an {@link AggregateDefinitionException} naming the class and member at
 * fault. Internal: not part of Gyre's API.
 *
 * @param <A> the aggregate class
 */
public final class AggregateModel<A> {

    private static final MethodType COMMAND_SHAPE =
            MethodType.methodType(Object.class, Object.class, Object.class, Object.class);
    private static final MethodType EVENT_SHAPE =
            MethodType.methodType(void.class, Object.class, Object.class, Object.class);

    private final Class<A> type;
    private final String typeName;
    private final MethodHandle constructor;
    private final MethodHandle idGetter;
    private final String idFieldName;
    private final Map<Class<?>, CommandHandlerMember> commandHandlers;
    private final Map<Class<?>, EventHandlerMember> eventHandlers;
    private final Set<Class<?>> eventTypes;
    private final ClassValue<Optional<EventHandlerMember>> handlerForEventClass = new ClassValue<>() {
        @Override
        protected Optional<EventHandlerMember> computeValue(Class<?> eventClass) {
            return resolveEventHandler(eventClass);
        }
    };

    private AggregateModel(Class<A> type, String typeName, MethodHandle constructor, MethodHandle idGetter,
                           String idFieldName, Map<Class<?>, CommandHandlerMember> commandHandlers,
                           Map<Class<?>, EventHandlerMember> eventHandlers, Set<Class<?>> eventTypes) {
        this.type = type;
        this.typeName = typeName;
        this.constructor = constructor;
        this.idGetter = idGetter;
        this.idFieldName = idFieldName;
        this.commandHandlers = Collections.unmodifiableMap(commandHandlers);
        this.eventHandlers = Collections.unmodifiableMap(eventHandlers);
        this.eventTypes = Collections.unmodifiableSet(eventTypes);
    }

    /**
     * Inspects an aggregate class.
     *
     * @param type the class, annotated {@link Aggregate}
     * @param <A>  the class
     * @return its model
     * @throws AggregateDefinitionException when the class breaks a rule
     */
    public static <A> AggregateModel<A> of(Class<A> type) {
        return new Inspector<>(type).inspect();
    }

    /** @return the aggregate class */
    public Class<A> type() {
        return type;
    }

    /** @return the type name stored with the aggregate's events */
    public String typeName() {
        return typeName;
    }

    /** @return the handlers by the command class they handle */
    public Map<Class<?>, CommandHandlerMember> commandHandlers() {
        return commandHandlers;
    }

    /** @return the concrete event classes the event sourcing handlers accept, to register for serialization */
    public Set<Class<?>> eventTypes() {
        return eventTypes;
    }

    /**
     * @param commandType a command class
     * @return its handler in this aggregate, or null
     */
    public @Nullable CommandHandlerMember commandHandler(Class<?> commandType) {
        return commandHandlers.get(commandType);
    }

    /** @return a blank instance for sourcing, made with the no-argument constructor */
    @SuppressWarnings("unchecked")
    public A newInstance() {
        try {
            return (A) (Object) constructor.invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new AggregateLifecycleException("The no-argument constructor of " + type.getName() + " threw", e);
        }
    }

    /**
     * @param aggregate an instance
     * @return its {@link AggregateId} as text, or null when it is not set
     */
    public @Nullable String idOf(Object aggregate) {
        Object id;
        try {
            id = (Object) idGetter.invokeExact(aggregate);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        return id == null ? null : id.toString();
    }

    /** @return the name of the {@link AggregateId} field, for messages */
    public String idFieldName() {
        return idFieldName;
    }

    /**
     * @param eventClass an event class
     * @return true when an {@code @EventSourcingHandler} of this aggregate takes it (or a supertype of it)
     */
    public boolean handlesEvent(Class<?> eventClass) {
        return handlerForEventClass.get(eventClass).isPresent();
    }

    /**
     * Applies an event to an aggregate through the {@code @EventSourcingHandler} for its class, or for the most
     * specific supertype of the event's class; does nothing when there is none.
     *
     * @param aggregate the instance
     * @param event     the event
     * @param metadata  its metadata
     */
    public void applyEvent(Object aggregate, Object event, Metadata metadata) {
        Optional<EventHandlerMember> handler = handlerForEventClass.get(event.getClass());
        if (handler.isEmpty()) {
            return;
        }
        try {
            handler.get().invoker().invokeExact(aggregate, event, (Object) metadata);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new AggregateLifecycleException("@EventSourcingHandler " + handler.get() + " threw " + e, e);
        }
    }

    private Optional<EventHandlerMember> resolveEventHandler(Class<?> eventClass) {
        List<EventHandlerMember> candidates = eventHandlers.values().stream()
                .filter(handler -> handler.eventType().isAssignableFrom(eventClass))
                .collect(Collectors.toList());
        List<EventHandlerMember> mostSpecific = candidates.stream()
                .filter(handler -> candidates.stream().allMatch(
                        other -> other.eventType().isAssignableFrom(handler.eventType())))
                .collect(Collectors.toList());
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        if (mostSpecific.size() != 1) {
            throw new AggregateDefinitionException("Event " + eventClass.getName() + " matches several "
                    + "@EventSourcingHandler methods of " + type.getName() + " and none is more specific: "
                    + candidates + "; add a handler for " + eventClass.getSimpleName() + " itself");
        }
        return Optional.of(mostSpecific.get(0));
    }

    @Override
    public String toString() {
        return "AggregateModel[" + type.getName() + "]";
    }

    /** Reflection over one class; each rule's message names the class and the member. */
    private static final class Inspector<A> {

        private final Class<A> type;
        private final Map<Class<?>, CommandHandlerMember> commandHandlers = new LinkedHashMap<>();
        private final Map<Class<?>, EventHandlerMember> eventHandlers = new LinkedHashMap<>();
        private final Set<Class<?>> eventTypes = new LinkedHashSet<>();

        Inspector(Class<A> type) {
            this.type = type;
        }

        AggregateModel<A> inspect() {
            Aggregate annotation = type.getAnnotation(Aggregate.class);
            if (annotation == null) {
                throw fail("is not annotated @Aggregate");
            }
            if (type.isInterface() || type.isEnum() || type.isRecord() || type.isArray() || type.isPrimitive()
                    || Modifier.isAbstract(type.getModifiers())) {
                throw fail("must be a concrete class (not abstract, an interface, an enum or a record)");
            }
            if (type.isMemberClass() && !Modifier.isStatic(type.getModifiers())) {
                throw fail("is an inner class; make it a top-level or static nested class");
            }
            String typeName = annotation.name().isEmpty() ? type.getSimpleName() : annotation.name();
            try {
                io.gyre.eventstore.StreamId.checkTypeName(typeName);
            } catch (IllegalArgumentException e) {
                throw fail("has an invalid aggregate name" + (annotation.name().isEmpty() ? " (its simple name)" : "")
                        + ": " + e.getMessage() + "; set a valid one with @Aggregate(name = ...)", e);
            }
            MethodHandle constructor = noArgConstructor();
            Field idField = idField();
            MethodHandle idGetter;
            try {
                idGetter = lookup(idField.getDeclaringClass()).unreflectGetter(idField)
                        .asType(MethodType.methodType(Object.class, Object.class));
            } catch (IllegalAccessException e) {
                throw fail("@AggregateId field '" + idField.getName() + "' cannot be read: " + e.getMessage(), e);
            }
            Set<String> overridden = new HashSet<>();
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                for (Method method : c.getDeclaredMethods()) {
                    if (method.isSynthetic() || method.isBridge()) {
                        continue;
                    }
                    boolean annotated = method.isAnnotationPresent(CommandHandler.class)
                            || method.isAnnotationPresent(EventSourcingHandler.class);
                    String signature = method.getName() + Arrays.toString(method.getParameterTypes());
                    // A handler overridden by an annotated subclass method is replaced by it; one overridden
                    // without the annotation stays a handler and reaches the override by virtual dispatch.
                    if (!annotated || (!Modifier.isPrivate(method.getModifiers()) && !overridden.add(signature))) {
                        continue;
                    }
                    if (method.isAnnotationPresent(CommandHandler.class)) {
                        addCommandHandler(method);
                    }
                    if (method.isAnnotationPresent(EventSourcingHandler.class)) {
                        addEventHandler(method);
                    }
                }
            }
            for (Constructor<?> candidate : type.getDeclaredConstructors()) {
                if (candidate.isAnnotationPresent(CommandHandler.class)) {
                    addCommandHandler(candidate);
                }
            }
            if (commandHandlers.isEmpty()) {
                throw fail("has no @CommandHandler constructor or method");
            }
            return new AggregateModel<>(type, typeName, constructor, idGetter, idField.getName(), commandHandlers,
                    eventHandlers, eventTypes);
        }

        private MethodHandle noArgConstructor() {
            try {
                Constructor<A> constructor = type.getDeclaredConstructor();
                return lookup(type).unreflectConstructor(constructor)
                        .asType(MethodType.methodType(Object.class));
            } catch (NoSuchMethodException e) {
                throw fail("has no no-argument constructor; add one (it may be protected or private) so the "
                        + "aggregate can be sourced from its events");
            } catch (IllegalAccessException e) {
                throw fail("no-argument constructor cannot be called: " + e.getMessage(), e);
            }
        }

        private Field idField() {
            List<Field> ids = new ArrayList<>();
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field field : c.getDeclaredFields()) {
                    if (field.isAnnotationPresent(AggregateId.class)) {
                        ids.add(field);
                    }
                }
            }
            if (ids.isEmpty()) {
                throw fail("has no @AggregateId field");
            }
            if (ids.size() > 1) {
                throw fail("has more than one @AggregateId field: "
                        + ids.stream().map(Field::getName).collect(Collectors.toList()));
            }
            Field id = ids.get(0);
            if (Modifier.isStatic(id.getModifiers())) {
                throw fail("@AggregateId field '" + id.getName() + "' must not be static");
            }
            return id;
        }

        private void addCommandHandler(Executable member) {
            String description = describe(member);
            boolean creation = member instanceof Constructor;
            if (!creation && Modifier.isStatic(member.getModifiers())) {
                throw fail("@CommandHandler " + description + " must not be static");
            }
            Class<?>[] parameters = member.getParameterTypes();
            if (parameters.length < 1 || parameters.length > 2) {
                throw fail("@CommandHandler " + description + " must take the command as its first parameter and "
                        + "optionally Metadata or CommandMessage as its second, but has " + parameters.length
                        + " parameters");
            }
            Class<?> commandType = parameters[0];
            if (commandType.isPrimitive() || commandType.isArray() || commandType.isInterface()
                    || Modifier.isAbstract(commandType.getModifiers())) {
                throw fail("@CommandHandler " + description + " must take a concrete command class as its first "
                        + "parameter, not " + commandType.getName());
            }
            ExtraParameter extra = ExtraParameter.NONE;
            if (parameters.length == 2) {
                ExtraParameter kind = ExtraParameter.forType(parameters[1]);
                if (kind == null) {
                    throw fail("@CommandHandler " + description + " has a second parameter of type "
                            + parameters[1].getName() + "; only Metadata or CommandMessage are supported");
                }
                extra = kind;
            }
            String targetProblem = TargetIdAccessor.of(commandType).problem();
            if (targetProblem != null) {
                throw fail("@CommandHandler " + description + " handles a command that cannot be routed: "
                        + targetProblem);
            }
            CommandHandlerMember existing = commandHandlers.get(commandType);
            if (existing != null) {
                throw fail("has two @CommandHandler members for " + commandType.getName() + ": " + existing
                        + " and " + description);
            }
            MethodHandle handle;
            try {
                MethodHandles.Lookup lookup = lookup(member.getDeclaringClass());
                handle = creation ? lookup.unreflectConstructor((Constructor<?>) member)
                        : lookup.unreflect((Method) member);
            } catch (IllegalAccessException e) {
                throw fail("@CommandHandler " + description + " cannot be called: " + e.getMessage(), e);
            }
            if (creation) {
                handle = MethodHandles.dropArguments(handle, 0, Object.class);
            }
            if (parameters.length == 1) {
                handle = MethodHandles.dropArguments(handle, 2, Object.class);
            }
            commandHandlers.put(commandType,
                    new CommandHandlerMember(commandType, creation, description, extra, handle.asType(COMMAND_SHAPE)));
        }

        private void addEventHandler(Method method) {
            String description = describe(method);
            if (Modifier.isStatic(method.getModifiers())) {
                throw fail("@EventSourcingHandler " + description + " must not be static");
            }
            Class<?>[] parameters = method.getParameterTypes();
            if (parameters.length < 1 || parameters.length > 2
                    || (parameters.length == 2 && parameters[1] != Metadata.class)) {
                throw fail("@EventSourcingHandler " + description + " must take the event as its only parameter, "
                        + "or the event and Metadata");
            }
            if (method.getReturnType() != void.class) {
                throw fail("@EventSourcingHandler " + description + " must return void: it changes state and "
                        + "decides nothing");
            }
            Class<?> eventType = parameters[0];
            if (eventType.isPrimitive() || eventType.isArray()) {
                throw fail("@EventSourcingHandler " + description + " must take an event class, not "
                        + eventType.getName());
            }
            EventHandlerMember existing = eventHandlers.get(eventType);
            if (existing != null) {
                throw fail("has two @EventSourcingHandler methods for " + eventType.getName() + ": " + existing
                        + " and " + description);
            }
            MethodHandle handle;
            try {
                handle = lookup(method.getDeclaringClass()).unreflect(method);
            } catch (IllegalAccessException e) {
                throw fail("@EventSourcingHandler " + description + " cannot be called: " + e.getMessage(), e);
            }
            if (parameters.length == 1) {
                handle = MethodHandles.dropArguments(handle, 2, Object.class);
            }
            eventHandlers.put(eventType, new EventHandlerMember(eventType, description, handle.asType(EVENT_SHAPE)));
            collectConcreteTypes(eventType, eventTypes);
        }

        /** A concrete class is registered as is; a sealed type through its permitted subclasses. */
        private static void collectConcreteTypes(Class<?> eventType, Set<Class<?>> into) {
            if (!eventType.isInterface() && !Modifier.isAbstract(eventType.getModifiers())) {
                into.add(eventType);
            }
            if (eventType.isSealed()) {
                for (Class<?> permitted : eventType.getPermittedSubclasses()) {
                    collectConcreteTypes(permitted, into);
                }
            }
        }

        private MethodHandles.Lookup lookup(Class<?> declaringClass) {
            try {
                return MethodHandles.privateLookupIn(declaringClass, MethodHandles.lookup());
            } catch (IllegalAccessException e) {
                throw fail("cannot be accessed by Gyre: " + e.getMessage() + " (in a named module, open the "
                        + "package of " + declaringClass.getName() + " to Gyre)", e);
            }
        }

        private String describe(Executable member) {
            String parameters = Arrays.stream(member.getParameterTypes()).map(Class::getSimpleName)
                    .collect(Collectors.joining(", "));
            String name = member instanceof Constructor ? member.getDeclaringClass().getSimpleName()
                    : member.getDeclaringClass().getSimpleName() + "." + member.getName();
            return name + "(" + parameters + ")";
        }

        private AggregateDefinitionException fail(String problem) {
            return new AggregateDefinitionException("Aggregate " + type.getName() + " " + problem);
        }

        private AggregateDefinitionException fail(String problem, Throwable cause) {
            return new AggregateDefinitionException("Aggregate " + type.getName() + " " + problem, cause);
        }
    }
}
