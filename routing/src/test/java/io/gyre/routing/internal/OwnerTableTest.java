package io.gyre.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The table against the definition it implements: the owner of a cell is the first point at or after its start. */
class OwnerTableTest {

    @Test
    void every_cell_belongs_to_the_first_point_at_or_after_its_start() {
        int[] indexes = {0, 1, 2};
        long[] bases = {VirtualNodes.base("a"), VirtualNodes.base("b"), VirtualNodes.base("c")};
        int[] counts = {8192, 16384, 100};

        OwnerTable table = OwnerTable.build(3, indexes, bases, counts);

        assertMatchesSuccessorRule(table, indexes, bases, counts);
    }

    @Test
    void tables_for_more_than_256_members_name_every_member() {
        int[] indexes = {7, 299, 4000};
        long[] bases = {VirtualNodes.base("x"), VirtualNodes.base("y"), VirtualNodes.base("z")};
        int[] counts = {8192, 8192, 8192};

        OwnerTable table = OwnerTable.build(5000, indexes, bases, counts);

        assertMatchesSuccessorRule(table, indexes, bases, counts);
        assertThat(table.cellCounts(5000)[4000]).isPositive();
    }

    @Test
    void a_few_points_leave_long_arcs_that_wrap_past_the_top() {
        int[] indexes = {0, 1};
        long[] bases = {VirtualNodes.base("p"), VirtualNodes.base("q")};
        int[] counts = {2, 1};

        OwnerTable table = OwnerTable.build(2, indexes, bases, counts);

        assertMatchesSuccessorRule(table, indexes, bases, counts);
    }

    @Test
    void on_equal_positions_the_lower_member_index_wins() {
        long base = VirtualNodes.base("twin");

        OwnerTable table = OwnerTable.build(2, new int[] {0, 1}, new long[] {base, base}, new int[] {8192, 8192});

        assertThat(table.cellCounts(2)).containsExactly(OwnerTable.CELLS, 0);
    }

    @Test
    void cells_map_to_contiguous_hash_ranges() {
        assertThat(OwnerTable.firstHash(0)).isZero();
        assertThat(OwnerTable.lastHash(OwnerTable.CELLS - 1)).isEqualTo(-1L);
        assertThat(OwnerTable.lastHash(0) + 1).isEqualTo(OwnerTable.firstHash(1));
    }

    private static void assertMatchesSuccessorRule(OwnerTable table, int[] indexes, long[] bases, int[] counts) {
        // Reference: every point with its owner in the low bits, sorted in unsigned order (ties: lower owner).
        long[] points = new long[Arrays.stream(counts).sum()];
        int n = 0;
        for (int m = 0; m < indexes.length; m++) {
            for (int i = 0; i < counts[m]; i++) {
                points[n++] = (VirtualNodes.point(bases[m], i) | indexes[m]) ^ Long.MIN_VALUE;
            }
        }
        Arrays.sort(points);
        int next = 0;
        for (int cell = 0; cell < OwnerTable.CELLS; cell++) {
            long start = OwnerTable.firstHash(cell) ^ Long.MIN_VALUE;
            while (next < points.length && points[next] < start) {
                next++;
            }
            long successor = points[next < points.length ? next : 0];
            int expected = (int) (successor & VirtualNodes.OWNER_MASK);
            if (table.ownerOfCell(cell) != expected) {
                throw new AssertionError("cell " + cell + ": expected owner " + expected + " but was "
                        + table.ownerOfCell(cell));
            }
        }
    }
}
