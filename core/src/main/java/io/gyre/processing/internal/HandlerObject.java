package io.gyre.processing.internal;

import io.gyre.processing.ProcessorDefinitionException;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * One handler object given to a processor, with its {@code @EventHandler} and {@code @ResetHandler} methods found
 * once by {@link HandlerInspector}. Internal: not part of Gyre's API.
 */
final class HandlerObject {

    private final Object target;
    private final List<HandlerMethod> methods;
    private final List<ResetMethod> resetMethods;
    private final ClassValue<Optional<HandlerMethod>> byEventClass = new ClassValue<>() {
        @Override
        protected Optional<HandlerMethod> computeValue(Class<?> eventClass) {
            return resolve(eventClass);
        }
    };

    HandlerObject(Object target, List<HandlerMethod> methods, List<ResetMethod> resetMethods) {
        this.target = Objects.requireNonNull(target, "target");
        this.methods = List.copyOf(methods);
        this.resetMethods = List.copyOf(resetMethods);
    }

    /** A {@code @ResetHandler} method of shape (handler object, resource) to void. */
    record ResetMethod(String description, MethodHandle invoker, @Nullable Class<?> resourceType) {
    }

    Object target() {
        return target;
    }

    List<HandlerMethod> methods() {
        return methods;
    }

    List<ResetMethod> resetMethods() {
        return resetMethods;
    }

    /**
     * @param eventClass an event's class
     * @return the method for it, the one whose event type is the most specific supertype of the class
     * @throws ProcessorDefinitionException when several match and none is more specific
     */
    @Nullable HandlerMethod methodFor(Class<?> eventClass) {
        return byEventClass.get(eventClass).orElse(null);
    }

    private Optional<HandlerMethod> resolve(Class<?> eventClass) {
        List<HandlerMethod> candidates = methods.stream()
                .filter(method -> method.eventType().isAssignableFrom(eventClass)).collect(Collectors.toList());
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        List<HandlerMethod> mostSpecific = candidates.stream()
                .filter(method -> candidates.stream().allMatch(
                        other -> other.eventType().isAssignableFrom(method.eventType())))
                .collect(Collectors.toList());
        if (mostSpecific.size() != 1) {
            throw new ProcessorDefinitionException("Event " + eventClass.getName() + " matches several @EventHandler "
                    + "methods of " + target.getClass().getName() + " and none is more specific: " + candidates
                    + "; add a handler for " + eventClass.getSimpleName() + " itself");
        }
        return Optional.of(mostSpecific.get(0));
    }

    @Override
    public String toString() {
        return target.getClass().getName();
    }
}
