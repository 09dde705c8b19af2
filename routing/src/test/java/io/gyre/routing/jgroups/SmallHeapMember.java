package io.gyre.routing.jgroups;

import io.gyre.Gyre;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.routing.testmodel.Ledger;

/**
 * A member in a process of its own, started by {@link OversizedFrameTest} with a small heap: arguments are the
 * cluster name and the port. Prints {@code READY} once it has joined, and runs until its standard input closes.
 */
public final class SmallHeapMember {

    private SmallHeapMember() {
    }

    /**
     * @param args cluster name and port
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        JGroupsCommandBus bus = JGroupsCommandBus.builder().cluster(args[0]).nodeName("small-heap")
                .bindPort(Integer.parseInt(args[1]), 0).build();
        try (Gyre node = Gyre.builder().name("small-heap").eventStore(new InMemoryEventStore())
                .aggregate(Ledger.class).commandBus(bus).start()) {
            System.out.println("READY " + node.commandGateway().getClass().getSimpleName());
            System.out.flush();
            while (System.in.read() >= 0) {
                // Runs until the test closes the pipe.
            }
        }
    }
}
