package io.gyre.processing.internal;

import io.gyre.processing.EventHandler;
import io.gyre.processing.ProcessorDefinitionException;
import io.gyre.processing.ResetHandler;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Finds the {@code @EventHandler} and {@code @ResetHandler} methods of a handler object by reflection, once, checks
 * every rule and adapts each method to a method handle of one shape. Each rule's message names the processor, the
 * class and the method. Internal: not part of Gyre's API.
 */
public final class HandlerInspector {

    private static final MethodType RESET_SHAPE = MethodType.methodType(void.class, Object.class, Object.class);

    private final String processor;
    private final Object target;
    private final Class<?> type;

    private HandlerInspector(String processor, Object target) {
        this.processor = processor;
        this.target = target;
        this.type = target.getClass();
    }

    /**
     * @param processor the processor's name, for messages
     * @param target    a handler object
     * @return its model
     * @throws ProcessorDefinitionException when it breaks a rule
     */
    static HandlerObject inspect(String processor, Object target) {
        return new HandlerInspector(processor, target).inspect();
    }

    private HandlerObject inspect() {
        if (target instanceof Class<?> given) {
            throw fail("was given the class " + given.getName() + " itself; pass an instance (new "
                    + given.getSimpleName() + "(...)), whose @EventHandler methods then run");
        }
        Map<Class<?>, HandlerMethod> methods = new LinkedHashMap<>();
        List<HandlerObject.ResetMethod> resets = new ArrayList<>();
        Set<String> overridden = new HashSet<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                boolean handler = method.isAnnotationPresent(EventHandler.class);
                boolean reset = method.isAnnotationPresent(ResetHandler.class);
                if (method.isSynthetic() || method.isBridge() || !(handler || reset)) {
                    continue;
                }
                String signature = method.getName() + Arrays.toString(method.getParameterTypes());
                // An annotated method overridden by an annotated subclass method is replaced by it.
                if (!Modifier.isPrivate(method.getModifiers()) && !overridden.add(signature)) {
                    continue;
                }
                if (handler && reset) {
                    throw fail(describe(method) + " is both @EventHandler and @ResetHandler; split it in two");
                }
                if (handler) {
                    HandlerMethod found = eventHandler(method);
                    HandlerMethod existing = methods.putIfAbsent(found.eventType(), found);
                    if (existing != null) {
                        throw fail("has two @EventHandler methods for " + found.eventType().getName() + ": "
                                + existing + " and " + found + "; keep one");
                    }
                } else {
                    resets.add(resetHandler(method));
                }
            }
        }
        if (methods.isEmpty()) {
            throw fail("has no @EventHandler method; annotate the methods that handle events with "
                    + "@io.gyre.processing.EventHandler");
        }
        return new HandlerObject(target, new ArrayList<>(methods.values()), resets);
    }

    private HandlerMethod eventHandler(Method method) {
        String description = describe(method);
        if (Modifier.isStatic(method.getModifiers())) {
            throw fail("@EventHandler " + description + " must not be static");
        }
        if (method.getReturnType() != void.class) {
            throw fail("@EventHandler " + description + " returns " + method.getReturnType().getSimpleName()
                    + "; an event handler returns nothing (make it void)");
        }
        Class<?>[] parameters = method.getParameterTypes();
        if (parameters.length == 0) {
            throw fail("@EventHandler " + description + " has no parameter; its first parameter must be the event");
        }
        Class<?> eventType = parameters[0];
        if (eventType.isPrimitive() || eventType.isArray() || eventType == Object.class
                || HandlerParameter.forType(eventType) != HandlerParameter.RESOURCE) {
            throw fail("@EventHandler " + description + " must take an event class as its first parameter, not "
                    + eventType.getName());
        }
        EnumSet<HandlerParameter> kinds = EnumSet.noneOf(HandlerParameter.class);
        int[] reorder = new int[parameters.length + 1];
        reorder[0] = 0;
        reorder[1] = 1;
        Class<?> resourceType = null;
        for (int i = 1; i < parameters.length; i++) {
            HandlerParameter kind = HandlerParameter.forType(parameters[i]);
            if (parameters[i].isPrimitive() || parameters[i].isArray()) {
                throw fail("@EventHandler " + description + " has a parameter of type " + parameters[i].getName()
                        + "; after the event it may take Metadata, StreamId, TrackingToken, EventContext or the "
                        + "transactional delivery's resource (a java.sql.Connection)");
            }
            if (!kinds.add(kind)) {
                throw fail("@EventHandler " + description + " takes " + (kind == HandlerParameter.RESOURCE
                        ? "two parameters that are neither the event nor Metadata, StreamId, TrackingToken or "
                        + "EventContext (" + resourceType.getName() + " and " + parameters[i].getName() + ")"
                        : "two parameters of type " + parameters[i].getSimpleName()) + "; take each at most once");
            }
            if (kind == HandlerParameter.RESOURCE) {
                resourceType = parameters[i];
            }
            reorder[i + 1] = kind.index();
        }
        MethodHandle handle;
        try {
            handle = lookup(method.getDeclaringClass()).unreflect(method);
        } catch (IllegalAccessException e) {
            throw fail("@EventHandler " + description + " cannot be called: " + e.getMessage(), e);
        }
        MethodType erased = MethodType.methodType(void.class, Object.class, Object.class);
        for (int i = 1; i < parameters.length; i++) {
            HandlerParameter kind = HandlerParameter.forType(parameters[i]);
            erased = erased.appendParameterTypes(HandlerMethod.SHAPE.parameterType(kind.index()));
        }
        MethodHandle uniform = MethodHandles.permuteArguments(handle.asType(erased), HandlerMethod.SHAPE, reorder);
        return new HandlerMethod(eventType, description, uniform, kinds, resourceType);
    }

    private HandlerObject.ResetMethod resetHandler(Method method) {
        String description = describe(method);
        if (Modifier.isStatic(method.getModifiers())) {
            throw fail("@ResetHandler " + description + " must not be static");
        }
        Class<?>[] parameters = method.getParameterTypes();
        if (parameters.length > 1 || (parameters.length == 1 && (parameters[0].isPrimitive()
                || HandlerParameter.forType(parameters[0]) != HandlerParameter.RESOURCE))) {
            throw fail("@ResetHandler " + description + " must take no parameter, or only the transactional "
                    + "delivery's resource (a java.sql.Connection)");
        }
        MethodHandle handle;
        try {
            handle = lookup(method.getDeclaringClass()).unreflect(method);
        } catch (IllegalAccessException e) {
            throw fail("@ResetHandler " + description + " cannot be called: " + e.getMessage(), e);
        }
        if (parameters.length == 0) {
            handle = MethodHandles.dropArguments(handle, 1, Object.class);
        }
        @Nullable Class<?> resourceType = parameters.length == 1 ? parameters[0] : null;
        return new HandlerObject.ResetMethod(description, handle.asType(RESET_SHAPE), resourceType);
    }

    private MethodHandles.Lookup lookup(Class<?> declaringClass) {
        try {
            return MethodHandles.privateLookupIn(declaringClass, MethodHandles.lookup());
        } catch (IllegalAccessException e) {
            throw fail("cannot be accessed by Gyre: " + e.getMessage() + " (in a named module, open the package of "
                    + declaringClass.getName() + " to Gyre)", e);
        }
    }

    private static String describe(Method method) {
        return method.getDeclaringClass().getSimpleName() + "." + method.getName() + "("
                + Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", "))
                + ")";
    }

    private ProcessorDefinitionException fail(String problem) {
        return new ProcessorDefinitionException("Handler " + type.getName() + " of processor '" + processor + "' "
                + problem);
    }

    private ProcessorDefinitionException fail(String problem, Throwable cause) {
        return new ProcessorDefinitionException("Handler " + type.getName() + " of processor '" + processor + "' "
                + problem, cause);
    }
}
