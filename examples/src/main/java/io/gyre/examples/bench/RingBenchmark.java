package io.gyre.examples.bench;

import io.gyre.routing.HashRing;
import io.gyre.routing.Member;
import io.gyre.routing.MovedRange;
import io.gyre.routing.RingDiff;
import io.gyre.routing.RoutingHash;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntFunction;

/**
 * Measures Gyre's consistent-hash ring against its targets and against the classic MD5 ring, and prints a table:
 * balance (exact, from the ring, and from a million sampled keys), weights, movement on join and leave, lookup
 * latency and build time. Timings are medians of many repetitions, measured in the same process for both rings;
 * on a shared machine they vary from run to run, so compare the ratios and run it more than once.
 *
 * <p>Run: {@code mvn -q -pl examples -am package exec:java -Dexec.mainClass=io.gyre.examples.bench.RingBenchmark}
 */
public final class RingBenchmark {

    private static final String TYPE = "Withdraw";
    private static final int[] SIZES = {3, 8, 16, 64};
    private static final List<String> ID_SETS = List.of("node-i", "host:port", "uuid A", "uuid B", "uuid C");

    private static int sink;

    private RingBenchmark() {
    }

    /**
     * Runs every measurement and prints the tables.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        System.out.printf("Gyre ring benchmark - Java %s, %d processors%n%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        balance();
        weights();
        movement();
        lookup();
        build();
        System.out.println("(sink " + sink + ")");
    }

    private static void balance() {
        System.out.println("Balance: busiest member's share / fair share 1/N (target <= 1.05; exact from the ring "
                + "unless noted)");
        System.out.printf("%7s |%s %7s | %14s | %17s%n", "members", columns(ID_SETS), "worst",
                "1M keys, node-i", "MD5 x100, node-i");
        for (int n : SIZES) {
            StringBuilder row = new StringBuilder();
            double worst = 0;
            for (String ids : ID_SETS) {
                double ratio = busiest(HashRing.of(1, members(ids, n)).ownership().values(), n);
                worst = Math.max(worst, ratio);
                row.append(String.format(" %9.4f |", ratio));
            }
            HashRing ring = HashRing.of(1, members("node-i", n));
            Map<String, Integer> counts = new HashMap<>();
            for (String key : keys(1_000_000, 99)) {
                counts.merge(ring.owner(key, TYPE).id(), 1, Integer::sum);
            }
            double sampled = Collections.max(counts.values()) * n / 1_000_000.0;
            double md5 = busiest(new Md5Ring(ids(members("node-i", n))).ownership().values(), n);
            System.out.printf("%7d |%s %7.4f | %14.4f | %17.4f%n", n, row, worst, sampled, md5);
        }
        System.out.println();
    }

    private static void weights() {
        System.out.println("Weights: one member of weight 2 among N members of weight 1 (target 2x +- 5%)");
        System.out.printf("%7s | %9s | %22s | %26s%n", "members", "ids", "heavy share / (2/(N+1))",
                "heavy / average light");
        for (String ids : List.of("node-i", "uuid A")) {
            for (int n : SIZES) {
                List<Member> members = new ArrayList<>(members(ids, n));
                Member heavy = new Member(members.get(0).id(), 2, Set.of(TYPE));
                members.set(0, heavy);
                double share = HashRing.of(1, members).ownership().get(heavy.id());
                System.out.printf("%7d | %9s | %22.4f | %26.4f%n", n, ids, share / (2.0 / (n + 1)),
                        share / ((1 - share) / (n - 1)));
            }
        }
        System.out.println();
    }

    private static void movement() {
        System.out.println("Movement: share of the hash space that changes owner / ideal (target <= 1.05), and "
                + "whether every moved range goes to the joiner / comes from the leaver");
        System.out.printf("%7s | %9s | %12s | %11s | %7s | %12s | %11s | %7s%n", "members", "ids", "join/ideal",
                "only joiner", "ranges", "leave/ideal", "only leaver", "ranges");
        for (String ids : List.of("node-i", "uuid A")) {
            for (int n : SIZES) {
                List<Member> all = members(ids, n + 1);
                List<Member> before = all.subList(0, n);
                String joiner = all.get(n).id();
                RingDiff join = RingDiff.between(HashRing.of(1, before), HashRing.of(2, all));
                List<Member> after = new ArrayList<>(before);
                String leaver = after.remove(n / 2).id();
                RingDiff leave = RingDiff.between(HashRing.of(1, before), HashRing.of(2, after));
                System.out.printf("%7d | %9s | %12.4f | %11s | %7d | %12.4f | %11s | %7d%n", n, ids,
                        join.movedFraction() * (n + 1), allMatch(join, r -> r.to().equals(joiner)),
                        join.movedRanges().size(), leave.movedFraction() * n,
                        allMatch(leave, r -> r.from().equals(leaver)), leave.movedRanges().size());
            }
        }
        System.out.println();
    }

    private static void lookup() {
        int n = 64;
        List<Member> members = members("node-i", n);
        HashRing ring = HashRing.of(1, members);
        Md5Ring md5 = new Md5Ring(ids(members));
        String[] keys = keys(1 << 16, 7).toArray(String[]::new);
        int mask = keys.length - 1;
        int[] next = {0};

        double gyre = Medians.median(200, 400, () -> {
            int start = next[0];
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                sink += ring.owner(keys[(start + i) & mask], TYPE).weight();
            }
            long elapsed = System.nanoTime() - t0;
            next[0] = start + 1000;
            return elapsed;
        }) / 1000;
        double hashOnly = Medians.median(200, 400, () -> {
            int start = next[0];
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                sink += (int) RoutingHash.hash(keys[(start + i) & mask]);
            }
            long elapsed = System.nanoTime() - t0;
            next[0] = start + 1000;
            return elapsed;
        }) / 1000;
        double classic = Medians.median(50, 200, () -> {
            int start = next[0];
            long t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                sink += md5.owner(keys[(start + i) & mask]).length();
            }
            long elapsed = System.nanoTime() - t0;
            next[0] = start + 100;
            return elapsed;
        }) / 100;

        System.out.println("Lookup: " + n + " members, 65,536 distinct UUID keys, median ns per lookup over "
                + "batches (target < 100 ns)");
        System.out.printf("%-38s | %10s | %10s%n", "ring", "median ns", "x Gyre");
        System.out.printf("%-38s | %10.1f | %10.2f%n", "Gyre HashRing.owner(key, type)", gyre, 1.0);
        System.out.printf("%-38s | %10.1f | %10.2f%n", "  of which RoutingHash.hash(key)", hashOnly, hashOnly / gyre);
        System.out.printf("%-38s | %10.1f | %10.2f%n", "MD5 x100 TreeMap ring", classic, classic / gyre);
        System.out.println();
    }

    private static void build() {
        int n = 64;
        List<Member> members = members("node-i", n);
        List<Member> joined = members("node-i", n + 1);
        HashRing older = HashRing.of(1, members);
        older.owner("warm", TYPE);
        long[] version = {1};

        double build = Medians.median(10, 41, () -> {
            long t0 = System.nanoTime();
            sink += HashRing.of(++version[0], members).owner("acc-1", TYPE).weight();
            return System.nanoTime() - t0;
        }) / 1e6;
        double diff = Medians.median(5, 21, () -> {
            HashRing newer = HashRing.of(++version[0], joined);
            newer.owner("acc-1", TYPE);
            long t0 = System.nanoTime();
            sink += RingDiff.between(older, newer).movedRanges().size();
            return System.nanoTime() - t0;
        }) / 1e6;
        double classic = Medians.median(5, 21, () -> {
            long t0 = System.nanoTime();
            sink += new Md5Ring(ids(members)).owner("acc-1").length();
            return System.nanoTime() - t0;
        }) / 1e6;

        System.out.println("Build: " + n + " members, median ms (target < 5 ms)");
        System.out.printf("%-52s | %9s%n", "operation", "median ms");
        System.out.printf("%-52s | %9.2f%n", "HashRing.of + first lookup (builds the owner table)", build);
        System.out.printf("%-52s | %9.2f%n", "RingDiff.between(64 members, 65 members)", diff);
        System.out.printf("%-52s | %9.2f%n", "MD5 x100 TreeMap ring (6,400 MD5s)", classic);
        System.out.println();
    }

    private static double busiest(Collection<Double> shares, int n) {
        return Collections.max(shares) * n;
    }

    private static String allMatch(RingDiff diff, java.util.function.Predicate<MovedRange> test) {
        return diff.movedRanges().stream().allMatch(test) ? "yes" : "NO";
    }

    private static String columns(List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (String name : names) {
            sb.append(String.format(" %9s |", name));
        }
        return sb.toString();
    }

    private static List<Member> members(String ids, int n) {
        return switch (ids) {
            case "node-i" -> members(n, i -> "node-" + (i + 1));
            case "host:port" -> members(n, i -> "10.0.0." + (i + 1) + ":7800");
            case "uuid A" -> uuids(n, 1);
            case "uuid B" -> uuids(n, 2);
            case "uuid C" -> uuids(n, 3);
            default -> throw new IllegalArgumentException("unknown id set " + ids);
        };
    }

    private static List<Member> uuids(int n, long seed) {
        Random random = new Random(seed);
        return members(n, i -> new UUID(random.nextLong(), random.nextLong()).toString());
    }

    private static List<Member> members(int n, IntFunction<String> id) {
        List<Member> members = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            members.add(new Member(id.apply(i), 1, Set.of(TYPE)));
        }
        return members;
    }

    private static List<String> ids(List<Member> members) {
        return members.stream().map(Member::id).toList();
    }

    private static List<String> keys(int n, long seed) {
        Random random = new Random(seed);
        List<String> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(new UUID(random.nextLong(), random.nextLong()).toString());
        }
        return keys;
    }
}
