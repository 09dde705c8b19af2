package io.gyre.routing.internal;

import java.util.Arrays;

/**
 * The owner of every cell of the hash space: a ring of virtual nodes, evaluated once per cell so that a lookup is
 * one array read.
 *
 * <p>The unsigned 64-bit hash space is cut into {@value #CELLS} equal cells by the top {@value #CELL_BITS} bits of
 * the hash. A cell belongs to the member whose point is the first at or after the cell's start (wrapping past the
 * top to the lowest point); when two points share a position, in practice never, the lower member index, that is
 * the member id that sorts first, wins. A key belongs to the owner of its cell.
 *
 * <p>This is exactly the classic successor rule of a consistent-hash ring, applied to cell starts instead of to
 * keys; so ownership is a pure function of the set of points, and adding a member can only hand cells to it. The
 * cell count is fixed, never derived from the membership: with a count that grew with the ring, keys would move
 * between members that did not change. 2^20 cells are two per point at 64 members of weight 1; rounding arcs to
 * cells then adds about 0.2% to the 1.1% standard deviation of a member's share. The table takes 1 MiB (one byte
 * per cell up to 256 members, two beyond), which mostly stays in the processor's cache, where the sorted points of
 * 64 members (half a million) would not.
 */
public final class OwnerTable {

    /** Bits of the hash that select a cell. Part of the placement contract. */
    public static final int CELL_BITS = 20;

    /** The number of cells. */
    public static final int CELLS = 1 << CELL_BITS;

    /** Shift from a hash to its cell. */
    public static final int CELL_SHIFT = 64 - CELL_BITS;

    /** The most members a table can name. */
    public static final int MAX_MEMBERS = 1 << 16;

    // The build first partitions the points by their top bits, so that each partition's cells fit in the
    // processor's first-level cache while the first point of each cell is found.
    private static final int PARTITION_BITS = 8;
    private static final int PARTITIONS = 1 << PARTITION_BITS;
    private static final int CELLS_PER_PARTITION = CELLS / PARTITIONS;
    private static final long OFFSET_MASK = (1L << CELL_SHIFT) - 1;
    // Above any point's offset in its cell, which has at most CELL_SHIFT bits.
    private static final long EMPTY = Long.MAX_VALUE;

    private final byte[] smallOwners;
    private final char[] largeOwners;

    private OwnerTable(byte[] smallOwners, char[] largeOwners) {
        this.smallOwners = smallOwners;
        this.largeOwners = largeOwners;
    }

    /**
     * Builds the table for a set of members.
     *
     * <p>Cost: two passes that generate the points (one to count per partition, one to place them), then one pass
     * per partition that keeps the first point of each cell and fills the cells. Linear in points plus cells, with
     * no comparison sort: about 4 ms for 64 members of weight 1.
     *
     * @param memberCount   the number of members that indexes refer to; up to 256 the table uses a byte per cell
     * @param memberIndexes ascending member indexes, each below {@code memberCount}
     * @param bases         each member's {@link VirtualNodes#base(String)}, parallel to {@code memberIndexes}
     * @param pointCounts   each member's number of points, parallel to {@code memberIndexes}
     * @return the table
     * @throws IllegalArgumentException if there are no points, too many, or too many members
     */
    public static OwnerTable build(int memberCount, int[] memberIndexes, long[] bases, int[] pointCounts) {
        if (memberCount > MAX_MEMBERS) {
            throw new IllegalArgumentException(
                    "a ring can have at most " + MAX_MEMBERS + " members, but had " + memberCount);
        }
        long total = 0;
        for (int count : pointCounts) {
            total += count;
        }
        if (total == 0 || total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "a ring needs between 1 and " + (Integer.MAX_VALUE - 8) + " points, but had " + total);
        }

        int[] start = new int[PARTITIONS + 1];
        for (int m = 0; m < memberIndexes.length; m++) {
            long base = bases[m];
            for (int i = 0; i < pointCounts[m]; i++) {
                start[(int) (VirtualNodes.point(base, i) >>> (64 - PARTITION_BITS)) + 1]++;
            }
        }
        for (int b = 0; b < PARTITIONS; b++) {
            start[b + 1] += start[b];
        }

        // Generating the points twice is cheaper than keeping them between the counting and the placing pass.
        // Each is stored with its owner's index in the low bits, which VirtualNodes keeps zero, so that the
        // lowest value in a cell is the lowest position and, on a tie, the member id that sorts first.
        int[] next = start.clone();
        long[] points = new long[(int) total];
        for (int m = 0; m < memberIndexes.length; m++) {
            long base = bases[m];
            long owner = memberIndexes[m];
            for (int i = 0; i < pointCounts[m]; i++) {
                long p = VirtualNodes.point(base, i);
                points[next[(int) (p >>> (64 - PARTITION_BITS))]++] = p | owner;
            }
        }

        byte[] small = memberCount <= 256 ? new byte[CELLS] : null;
        char[] large = small == null ? new char[CELLS] : null;
        long[] firstInCell = new long[CELLS_PER_PARTITION];
        // Emptied once here; the fill below empties each cell again as it reads it.
        Arrays.fill(firstInCell, EMPTY);
        // Filled from the top down, each empty cell taking the owner of the next non-empty one. The cells above
        // the highest point wrap around to the lowest point, known only at the end: they are filled then.
        int carry = -1;
        int highestCellWithPoint = -1;
        for (int part = PARTITIONS - 1; part >= 0; part--) {
            if (start[part] == start[part + 1]) {
                if (carry >= 0) {
                    fill(small, large, part * CELLS_PER_PARTITION, (part + 1) * CELLS_PER_PARTITION, carry);
                }
                continue;
            }
            for (int k = start[part]; k < start[part + 1]; k++) {
                long v = points[k];
                int cell = (int) (v >>> CELL_SHIFT) & (CELLS_PER_PARTITION - 1);
                firstInCell[cell] = Math.min(firstInCell[cell], v & OFFSET_MASK);
            }
            int offset = part * CELLS_PER_PARTITION;
            int cell = CELLS_PER_PARTITION - 1;
            if (highestCellWithPoint < 0) {
                while (firstInCell[cell] == EMPTY) {
                    cell--;
                }
                highestCellWithPoint = offset + cell;
            }
            carry = small != null
                    ? fillPartition(firstInCell, cell, small, offset, carry)
                    : fillPartition(firstInCell, cell, large, offset, carry);
        }
        fill(small, large, highestCellWithPoint + 1, CELLS, carry);
        return new OwnerTable(small, large);
    }

    // Branch-free: about 40% of cells hold a point, so a branch on it would mispredict often.
    private static int fillPartition(long[] firstInCell, int top, byte[] owners, int offset, int carry) {
        for (int cell = top; cell >= 0; cell--) {
            long first = firstInCell[cell];
            int hasPoint = (int) ((first - EMPTY) >> 63);
            carry = (int) first & (int) VirtualNodes.OWNER_MASK & hasPoint | carry & ~hasPoint;
            owners[offset + cell] = (byte) carry;
            firstInCell[cell] = EMPTY;
        }
        return carry;
    }

    private static int fillPartition(long[] firstInCell, int top, char[] owners, int offset, int carry) {
        for (int cell = top; cell >= 0; cell--) {
            long first = firstInCell[cell];
            int hasPoint = (int) ((first - EMPTY) >> 63);
            carry = (int) first & (int) VirtualNodes.OWNER_MASK & hasPoint | carry & ~hasPoint;
            owners[offset + cell] = (char) carry;
            firstInCell[cell] = EMPTY;
        }
        return carry;
    }

    private static void fill(byte[] small, char[] large, int from, int to, int owner) {
        if (small != null) {
            Arrays.fill(small, from, to, (byte) owner);
        } else {
            Arrays.fill(large, from, to, (char) owner);
        }
    }

    /**
     * The owner of a hash.
     *
     * @param hash a routing hash
     * @return the member index of the owner
     */
    public int ownerOf(long hash) {
        return ownerOfCell((int) (hash >>> CELL_SHIFT));
    }

    /**
     * The owner of a cell.
     *
     * @param cell a cell, {@code 0 <= cell < CELLS}
     * @return the member index of the owner
     */
    public int ownerOfCell(int cell) {
        return smallOwners != null ? smallOwners[cell] & 0xFF : largeOwners[cell];
    }

    /**
     * How many cells each member owns.
     *
     * @param memberCount the number of members that indexes refer to
     * @return the cell count per member index
     */
    public int[] cellCounts(int memberCount) {
        int[] counts = new int[memberCount];
        for (int cell = 0; cell < CELLS; cell++) {
            counts[ownerOfCell(cell)]++;
        }
        return counts;
    }

    /**
     * The first hash of a cell.
     *
     * @param cell a cell, {@code 0 <= cell < CELLS}
     * @return its lowest unsigned hash
     */
    public static long firstHash(int cell) {
        return (long) cell << CELL_SHIFT;
    }

    /**
     * The last hash of a cell.
     *
     * @param cell a cell, {@code 0 <= cell < CELLS}
     * @return its highest unsigned hash
     */
    public static long lastHash(int cell) {
        return firstHash(cell) | OFFSET_MASK;
    }
}
