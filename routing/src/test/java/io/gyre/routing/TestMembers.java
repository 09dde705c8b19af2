package io.gyre.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntFunction;

/** Member sets with the kinds of ids clusters use, all handling the aggregate type {@link #COMMAND}. */
final class TestMembers {

    static final String COMMAND = "Withdraw";

    private TestMembers() {
    }

    /** "node-1" .. "node-n". */
    static List<Member> nodes(int n) {
        return members(n, i -> "node-" + (i + 1));
    }

    /** Random UUID strings, the same for the same seed. */
    static List<Member> uuids(int n, long seed) {
        Random random = new Random(seed);
        return members(n, i -> new UUID(random.nextLong(), random.nextLong()).toString());
    }

    /** "10.0.0.1:7800" .., host and port as a JGroups address prints them. */
    static List<Member> hosts(int n) {
        return members(n, i -> "10.0.0." + (i + 1) + ":7800");
    }

    /** The named id set, for parameterized tests. */
    static List<Member> idSet(String name, int n) {
        return switch (name) {
            case "nodes" -> nodes(n);
            case "hosts" -> hosts(n);
            case "uuids-1" -> uuids(n, 1);
            case "uuids-2" -> uuids(n, 2);
            case "uuids-3" -> uuids(n, 3);
            default -> throw new IllegalArgumentException("unknown id set " + name);
        };
    }

    static Member member(String id) {
        return new Member(id, 1, Set.of(COMMAND));
    }

    static List<String> keys(int n, long seed) {
        Random random = new Random(seed);
        List<String> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(new UUID(random.nextLong(), random.nextLong()).toString());
        }
        return keys;
    }

    private static List<Member> members(int n, IntFunction<String> id) {
        List<Member> members = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            members.add(member(id.apply(i)));
        }
        return members;
    }
}
