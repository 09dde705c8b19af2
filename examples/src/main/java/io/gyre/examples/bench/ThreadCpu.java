package io.gyre.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time of this process's threads, grouped by what they do (the JIT compiler, the garbage collector, JGroups'
 * receivers and connection writers, Gyre's outboxes and workers, ...), from {@code /proc/self/task/<tid>/schedstat}
 * (nanoseconds on a CPU) and {@code comm} (the thread's name, cut to 15 characters). A benchmark reads it before and
 * after a round: CPU that does not grow with the commands (compilation, collection, timers) then shows apart from the
 * CPU of the command path, instead of being divided into the commands of whichever round it fell in. A thread that
 * ends before the second reading is not counted at all, so a benchmark's client threads must outlive its rounds. Empty where there is
 * no such file system.
 */
final class ThreadCpu {

    /** The groups a command passes through; the rest (compiler, collector, timers, the benchmark) do not scale. */
    static final java.util.List<String> COMMAND_PATH = java.util.List.of("clients", "jg-receive", "jg-write",
            "outbox", "workers", "callbacks");

    private static final boolean OTHER_BY_NAME = Boolean.getBoolean("bench.otherByName");

    private ThreadCpu() {
    }

    /** @return nanoseconds on a CPU so far, by thread id, each with its group */
    static Map<String, Sample> now() {
        Map<String, Sample> threads = new TreeMap<>();
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return threads;
        }
        try (Stream<Path> all = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) all::iterator) {
                try {
                    String schedstat = Files.readString(task.resolve("schedstat")).trim();
                    long nanos = Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
                    String name = Files.readString(task.resolve("comm")).trim();
                    threads.put(task.getFileName().toString(), new Sample(groupOf(name), nanos));
                } catch (IOException | RuntimeException e) {
                    // The thread ended meanwhile.
                }
            }
        } catch (IOException e) {
            return threads;
        }
        return threads;
    }

    /**
     * @param before a reading before the round
     * @param after  a reading after it
     * @return nanoseconds on a CPU during the round, by group, of the threads alive at both readings
     */
    static Map<String, Long> spent(Map<String, Sample> before, Map<String, Sample> after) {
        Map<String, Long> groups = new TreeMap<>();
        for (Map.Entry<String, Sample> thread : after.entrySet()) {
            Sample earlier = before.get(thread.getKey());
            long nanos = thread.getValue().nanos() - (earlier == null ? 0 : earlier.nanos());
            groups.merge(thread.getValue().group(), nanos, Long::sum);
        }
        return groups;
    }

    private static String groupOf(String name) {
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
            return "jit";
        }
        if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.startsWith("VM Thread")) {
            return "gc+vm";
        }
        if (name.startsWith("Connection.Rec")) {
            return "jg-receive";
        }
        if (name.startsWith("sender to ")) {
            return "jg-write";
        }
        if (name.startsWith("gyre-outbox")) {
            return "outbox";
        }
        if (name.startsWith("bench-client")) {
            return "clients";
        }
        if (name.contains("-callbac")) {
            return "callbacks";
        }
        if (name.contains("-command")) {
            return "workers";
        }
        if (name.startsWith("main") || name.startsWith("JFR") || name.startsWith("Attach")) {
            return "bench";
        }
        // -Dbench.otherByName=true names the rest by thread name (digits folded), to see what "other" is.
        return OTHER_BY_NAME ? "other:" + name.replaceAll("[0-9]+", "#") : "other";
    }

    /** One thread's reading. */
    record Sample(String group, long nanos) {
    }
}
