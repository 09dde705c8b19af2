package io.gyre.testmodel;

import io.gyre.command.CommandMessage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Watches {@link Counter} handlers from tests: overlapping runs per counter, and every command id seen. */
public final class Probe {

    private static final Map<String, AtomicInteger> RUNNING = new ConcurrentHashMap<>();
    private static final AtomicInteger OVERLAPS = new AtomicInteger();
    private static final List<String> COMMAND_IDS = new CopyOnWriteArrayList<>();
    private static volatile Consumer<CommandMessage> hook = message -> { };

    private Probe() {
    }

    /** Forgets everything seen and removes the hook. */
    public static void reset() {
        RUNNING.clear();
        OVERLAPS.set(0);
        COMMAND_IDS.clear();
        hook = message -> { };
    }

    /** @param action runs inside every probed handler, before it applies its event */
    public static void onHandle(Consumer<CommandMessage> action) {
        hook = action;
    }

    /** @return how often two commands for one counter ran at once */
    public static int overlaps() {
        return OVERLAPS.get();
    }

    /** @return the command ids of every probed handler run, in order */
    public static List<String> commandIds() {
        return List.copyOf(COMMAND_IDS);
    }

    static void enter(String id, CommandMessage message) {
        if (RUNNING.computeIfAbsent(id, key -> new AtomicInteger()).incrementAndGet() > 1) {
            OVERLAPS.incrementAndGet();
        }
        COMMAND_IDS.add(message.commandId());
        hook.accept(message);
    }

    static void exit(String id) {
        RUNNING.get(id).decrementAndGet();
    }
}
