package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Closing a bus while an aggregate's command still waits for its store, past the shutdown timeout: the waiting
 * command still gets its outcome when its store answers, and the commands queued behind it end as not run, instead
 * of never completing (their turn would have gone to workers that close() had stopped).
 */
class LocalCommandBusCloseTest {

    record Job(@TargetAggregateId String key, int value) {
    }

    @Test
    void commands_queued_behind_one_that_outlives_the_shutdown_timeout_end_as_not_run() throws Exception {
        LocalCommandBus bus = LocalCommandBus.builder().workers(1).shutdownTimeout(Duration.ofMillis(200)).build();
        CompletableFuture<@Nullable Object> store = new CompletableFuture<>();
        AtomicInteger handled = new AtomicInteger();
        bus.subscribe(Job.class, "Job", new CommandHandlerFunction() {
            @Override
            public @Nullable Object handle(CommandMessage command) {
                throw new UnsupportedOperationException();
            }

            @Override
            public CompletionStage<@Nullable Object> handleAsync(CommandMessage command, Executor workers) {
                handled.incrementAndGet();
                Job job = (Job) command.payload();
                return job.value() == 1 ? store : CompletableFuture.completedFuture(job.value());
            }
        });
        CommandDispatch first = bus.dispatch(CommandMessage.of(new Job("a", 1)));
        List<CommandDispatch> behind = new ArrayList<>();
        for (int value = 2; value <= 6; value++) {
            behind.add(bus.dispatch(CommandMessage.of(new Job("a", value))));
        }
        CommandDispatch other = bus.dispatch(CommandMessage.of(new Job("b", 7)));
        assertThat(other.get(10, TimeUnit.SECONDS)).as("another aggregate is not held up").isEqualTo(7);

        bus.close();
        Thread writer = new Thread(() -> store.complete("stored"), "store-writer");
        writer.start();
        writer.join();

        assertThat(first.get(10, TimeUnit.SECONDS)).as("the command its store answered").isEqualTo("stored");
        for (CommandDispatch queued : behind) {
            assertThatThrownBy(() -> queued.get(10, TimeUnit.SECONDS)).as("a command queued behind it")
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(CommandBusClosedException.class);
        }
        assertThat(handled).as("handlers run: a's first and b's").hasValue(2);
    }
}
