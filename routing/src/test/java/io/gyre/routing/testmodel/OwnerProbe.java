package io.gyre.routing.testmodel;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records which node ran each command for which ledger, and when, for tests of ownership. */
public final class OwnerProbe {

    /**
     * @param ledger    the ledger
     * @param node      the node whose worker ran the command
     * @param nanoTime  when it ran
     */
    public record Run(String ledger, String node, long nanoTime) {
    }

    private static final List<Run> RUNS = new CopyOnWriteArrayList<>();

    private OwnerProbe() {
    }

    /**
     * @param ledger the ledger
     * @param node   the node running a command for it
     */
    public static void ran(String ledger, String node) {
        RUNS.add(new Run(ledger, node, System.nanoTime()));
    }

    /** @return every run recorded, in order */
    public static List<Run> runs() {
        return List.copyOf(RUNS);
    }

    /** Forgets every run. */
    public static void clear() {
        RUNS.clear();
    }
}
