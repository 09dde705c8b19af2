package io.gyre.testmodel;

import static io.gyre.aggregate.AggregateLifecycle.apply;

import io.gyre.aggregate.Aggregate;
import io.gyre.aggregate.AggregateId;
import io.gyre.aggregate.EventSourcingHandler;
import io.gyre.command.CommandHandler;
import io.gyre.command.CommandMessage;
import io.gyre.testmodel.CounterCommands.Add;
import io.gyre.testmodel.CounterCommands.AddNullable;
import io.gyre.testmodel.CounterCommands.AddThenFail;
import io.gyre.testmodel.CounterCommands.ApplyUnregistered;
import io.gyre.testmodel.CounterCommands.CreateCounter;
import io.gyre.testmodel.CounterEvents.Added;
import io.gyre.testmodel.CounterEvents.CounterCreated;
import io.gyre.testmodel.CounterEvents.NotRegistered;
import java.util.ArrayList;
import java.util.List;

/**
 * A test aggregate that sums what is added to it and remembers the order. Every handler reports to
 * {@link Probe}, which checks that no two commands for one counter ever overlap.
 */
@Aggregate
public class Counter {

    @AggregateId
    private String id;
    private long total;
    private final List<Long> amounts = new ArrayList<>();

    protected Counter() {
    }

    @CommandHandler
    Counter(CreateCounter command, CommandMessage message) {
        Probe.enter(command.id(), message);
        try {
            apply(new CounterCreated(command.id()));
        } finally {
            Probe.exit(command.id());
        }
    }

    @CommandHandler
    long handle(Add command, CommandMessage message) {
        Probe.enter(id, message);
        try {
            apply(new Added(id, command.amount()));
            return total;
        } finally {
            Probe.exit(id);
        }
    }

    @CommandHandler
    void handle(AddThenFail command) {
        apply(new Added(id, command.amount()));
        throw new IllegalStateException("AddThenFail refuses after applying " + command.amount());
    }

    @CommandHandler
    void handle(ApplyUnregistered command) {
        apply(new NotRegistered(id));
    }

    @CommandHandler
    Object handle(CounterCommands.AddReturningUnregistered command) {
        apply(new Added(id, 1));
        return new StringBuilder("not a registered type");
    }

    @CommandHandler
    long handle(CounterCommands.AddAtMost command) {
        if (total + command.amount() > command.limit()) {
            throw new IllegalStateException("total " + total + " + " + command.amount() + " exceeds " + command.limit());
        }
        apply(new Added(id, command.amount()));
        return total;
    }

    @CommandHandler
    void handle(AddNullable command) {
        apply(new Added(id, 1));
    }

    @EventSourcingHandler
    void on(CounterCreated event) {
        id = event.id();
    }

    @EventSourcingHandler
    void on(Added event) {
        total += event.amount();
        amounts.add(event.amount());
    }

    /** @return the counter's id */
    public String id() {
        return id;
    }

    /** @return the sum of everything added */
    public long total() {
        return total;
    }

    /** @return the amounts in the order they were added */
    public List<Long> amounts() {
        return List.copyOf(amounts);
    }
}
