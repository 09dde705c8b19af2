package io.gyre.routing.internal;

/**
 * Finds the runs of cells whose owner differs between two owner tables, in one pass over the cells.
 *
 * <p>Adjacent cells with the same pair of owners are reported as one run, so the number of runs is about the
 * number of points of the member that changed, not the number of cells.
 */
public final class TableDiff {

    /** Receives the runs in ascending cell order. */
    @FunctionalInterface
    public interface Sink {
        /**
         * Cells whose owner changed.
         *
         * @param firstCell the first cell of the run
         * @param lastCell  the last cell of the run, inclusive
         * @param from      the owner in the older table, as a member index of the older ring
         * @param to        the owner in the newer table, as a member index of the newer ring
         */
        void moved(int firstCell, int lastCell, int from, int to);
    }

    private TableDiff() {
    }

    /**
     * Reports every run of cells whose owner differs.
     *
     * @param older        the older table
     * @param newer        the newer table
     * @param newerToOlder for each member index of the newer ring, the index of the member with the same id in the
     *                     older ring, or -1
     * @param sink         receives the runs
     */
    public static void diff(OwnerTable older, OwnerTable newer, int[] newerToOlder, Sink sink) {
        int runStart = -1;
        int runFrom = -1;
        int runTo = -1;
        for (int cell = 0; cell < OwnerTable.CELLS; cell++) {
            int from = older.ownerOfCell(cell);
            int to = newer.ownerOfCell(cell);
            boolean moved = newerToOlder[to] != from;
            if (runStart >= 0 && (!moved || from != runFrom || to != runTo)) {
                sink.moved(runStart, cell - 1, runFrom, runTo);
                runStart = -1;
            }
            if (moved && runStart < 0) {
                runStart = cell;
                runFrom = from;
                runTo = to;
            }
        }
        if (runStart >= 0) {
            sink.moved(runStart, OwnerTable.CELLS - 1, runFrom, runTo);
        }
    }
}
