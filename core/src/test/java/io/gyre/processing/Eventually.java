package io.gyre.processing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, checking it every few milliseconds; never a bare sleep. */
public final class Eventually {

    private Eventually() {
    }

    /**
     * @param timeout     the deadline
     * @param description what is awaited, for the failure message
     * @param condition   the condition
     * @throws AssertionError when the deadline passes first
     */
    public static void await(Duration timeout, String description, BooleanSupplier condition) {
        await(timeout, () -> description, condition);
    }

    /**
     * @param timeout     the deadline
     * @param description what is awaited and the state seen, for the failure message; evaluated on failure only
     * @param condition   the condition
     * @throws AssertionError when the deadline passes first
     */
    public static void await(Duration timeout, Supplier<String> description, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Not within " + timeout + ": " + description.get() + gyreThreads());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("Interrupted while waiting: " + description.get(), e);
            }
        }
    }

    /** What Gyre's threads were doing, to tell a slow condition from a stuck one. */
    private static String gyreThreads() {
        StringBuilder dump = new StringBuilder("\nGyre threads:");
        Thread.getAllStackTraces().forEach((thread, frames) -> {
            if (thread.getName().startsWith("gyre")) {
                dump.append("\n  ").append(thread.getName()).append(' ').append(thread.getState());
                for (int i = 0; i < Math.min(frames.length, 40); i++) {
                    dump.append("\n    at ").append(frames[i]);
                }
            }
        });
        return dump.toString();
    }
}
