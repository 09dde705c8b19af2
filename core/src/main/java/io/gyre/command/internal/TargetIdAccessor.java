package io.gyre.command.internal;

import io.gyre.command.MissingTargetAggregateIdException;
import io.gyre.command.TargetAggregateId;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads the {@link TargetAggregateId} of a command type through a method handle found once per class.
 * Internal: not part of Gyre's API.
 */
public final class TargetIdAccessor {

    private static final ClassValue<TargetIdAccessor> ACCESSORS = new ClassValue<>() {
        @Override
        protected TargetIdAccessor computeValue(Class<?> type) {
            return find(type);
        }
    };

    private final Class<?> commandType;
    private final @Nullable String memberName;
    private final @Nullable MethodHandle getter;
    private final @Nullable String problem;

    private TargetIdAccessor(Class<?> commandType, @Nullable String memberName, @Nullable MethodHandle getter,
                             @Nullable String problem) {
        this.commandType = commandType;
        this.memberName = memberName;
        this.getter = getter;
        this.problem = problem;
    }

    /**
     * @param commandType a command class
     * @return its accessor, cached per class
     */
    public static TargetIdAccessor of(Class<?> commandType) {
        return ACCESSORS.get(commandType);
    }

    /** @return why the type has no usable target id member, or null when it has one */
    public @Nullable String problem() {
        return problem;
    }

    /**
     * @param command a command of this accessor's type
     * @return the target aggregate id as text
     * @throws MissingTargetAggregateIdException when the type has no member, or its value is null, blank or longer than
     *                                           {@link io.gyre.eventstore.StreamId#MAX_ID_LENGTH}
     */
    public String routingKey(Object command) {
        if (getter == null) {
            throw new MissingTargetAggregateIdException(String.valueOf(problem));
        }
        Object value;
        try {
            value = getter.invokeExact(command);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("@TargetAggregateId getter " + memberName + " threw", e);
        }
        String key = value == null ? null : value.toString();
        if (key == null || key.isBlank()) {
            throw new MissingTargetAggregateIdException("Command " + commandType.getName() + " has "
                    + (key == null ? "a null" : "a blank") + " @TargetAggregateId '" + memberName
                    + "'; every command must name the aggregate it targets");
        }
        if (key.length() > io.gyre.eventstore.StreamId.MAX_ID_LENGTH) {
            throw new MissingTargetAggregateIdException("Command " + commandType.getName() + " has a "
                    + "@TargetAggregateId '" + memberName + "' of " + key.length() + " characters; aggregate ids are "
                    + "at most " + io.gyre.eventstore.StreamId.MAX_ID_LENGTH + " characters");
        }
        return key;
    }

    private static String noTargetId(Class<?> type) {
        return "Command " + type.getName() + " has no @TargetAggregateId member; annotate the record component, "
                + "field or getter that names the target aggregate";
    }

    /** Whether any member carries the annotation; reflection reads annotations without access to the members. */
    private static boolean declaresTargetId(Class<?> type) {
        if (type.isRecord()) {
            for (RecordComponent component : type.getRecordComponents()) {
                if (component.isAnnotationPresent(TargetAggregateId.class)) {
                    return true;
                }
            }
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (field.isAnnotationPresent(TargetAggregateId.class)) {
                    return true;
                }
            }
            for (Method method : c.getDeclaredMethods()) {
                if (method.isAnnotationPresent(TargetAggregateId.class)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static TargetIdAccessor find(Class<?> type) {
        List<String> names = new ArrayList<>();
        List<MethodHandle> getters = new ArrayList<>();
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
            if (type.isRecord()) {
                for (RecordComponent component : type.getRecordComponents()) {
                    if (component.isAnnotationPresent(TargetAggregateId.class)) {
                        names.add(component.getName());
                        getters.add(lookup.unreflect(component.getAccessor()));
                    }
                }
            } else {
                for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                    MethodHandles.Lookup declaring = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
                    for (Field field : c.getDeclaredFields()) {
                        if (field.isAnnotationPresent(TargetAggregateId.class)
                                && !Modifier.isStatic(field.getModifiers())) {
                            names.add(field.getName());
                            getters.add(declaring.unreflectGetter(field));
                        }
                    }
                    for (Method method : c.getDeclaredMethods()) {
                        if (method.isAnnotationPresent(TargetAggregateId.class)) {
                            if (method.getParameterCount() != 0 || method.getReturnType() == void.class
                                    || Modifier.isStatic(method.getModifiers())) {
                                return missing(type, "@TargetAggregateId method " + type.getSimpleName() + "."
                                        + method.getName() + " must be a non-static getter without parameters");
                            }
                            names.add(method.getName() + "()");
                            getters.add(declaring.unreflect(method));
                        }
                    }
                }
            }
        } catch (IllegalAccessException e) {
            if (!declaresTargetId(type)) {
                // Nothing to read (a String or a Map sent by mistake, from a package Gyre may not open): say that,
                // not that a module should be opened.
                return missing(type, noTargetId(type));
            }
            return missing(type, "Cannot read the @TargetAggregateId of " + type.getName() + ": " + e.getMessage()
                    + " (in a named module, open the package to Gyre)");
        }
        if (names.isEmpty()) {
            return missing(type, noTargetId(type));
        }
        if (names.size() > 1) {
            return missing(type, "Command " + type.getName() + " has more than one @TargetAggregateId member: "
                    + names);
        }
        MethodHandle getter = getters.get(0).asType(MethodType.methodType(Object.class, Object.class));
        return new TargetIdAccessor(type, names.get(0), getter, null);
    }

    private static TargetIdAccessor missing(Class<?> type, String problem) {
        return new TargetIdAccessor(type, null, null, problem);
    }
}
