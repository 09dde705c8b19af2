package io.gyre.processing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.Gyre;
import io.gyre.Metadata;
import io.gyre.eventstore.EventStore;
import io.gyre.eventstore.ForwardingEventStore;
import io.gyre.eventstore.InMemoryEventStore;
import io.gyre.eventstore.StreamId;
import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.conformance.Numbered;
import io.gyre.processing.conformance.Recorder;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad processor definitions are refused when they are defined or registered, with a message naming the fault. */
class ProcessorRegistrationTest {

    static final class NoHandlers {
        void on(Numbered event) {
        }
    }

    static final class ReturnsSomething {
        @EventHandler
        long on(Numbered event) {
            return event.n();
        }
    }

    static final class NoParameter {
        @EventHandler
        void on() {
        }
    }

    static final class MetadataFirst {
        @EventHandler
        void on(Metadata metadata, Numbered event) {
        }
    }

    static final class PrimitiveEvent {
        @EventHandler
        void on(long n) {
        }
    }

    static final class StaticHandler {
        @EventHandler
        static void on(Numbered event) {
        }
    }

    static final class TwoMetadata {
        @EventHandler
        void on(Numbered event, Metadata first, Metadata second) {
        }
    }

    static final class TwoResources {
        @EventHandler
        void on(Numbered event, Connection connection, StringBuilder other) {
        }
    }

    static final class TwoForOneType {
        @EventHandler
        void on(Numbered event) {
        }

        @EventHandler
        void again(Numbered event, StreamId stream) {
        }
    }

    static final class WantsConnection {
        @EventHandler
        void on(Numbered event, Connection connection) {
        }
    }

    static final class WantsToken {
        @EventHandler
        void on(Numbered event, TrackingToken token) {
        }
    }

    static final class ResetWithEvent {
        @EventHandler
        void on(Numbered event) {
        }

        @ResetHandler
        void clear(Numbered event) {
        }
    }

    static final class EveryParameter {
        @EventHandler
        void on(Numbered event, TrackingToken token, Metadata metadata, EventContext context, StreamId stream) {
        }
    }

    @Test
    void a_handler_method_with_a_wrong_signature_is_refused_naming_the_method_and_the_rule() {
        TrackingProcessor.Builder builder = TrackingProcessor.named("p");

        assertThatThrownBy(() -> builder.handlers(new ReturnsSomething())).isInstanceOf(ProcessorDefinitionException.class)
                .hasMessageContaining("ReturnsSomething.on(Numbered)").hasMessageContaining("returns long");
        assertThatThrownBy(() -> builder.handlers(new NoParameter())).hasMessageContaining("NoParameter.on()")
                .hasMessageContaining("first parameter must be the event");
        assertThatThrownBy(() -> builder.handlers(new MetadataFirst())).hasMessageContaining("an event class")
                .hasMessageContaining("io.gyre.Metadata");
        assertThatThrownBy(() -> builder.handlers(new PrimitiveEvent())).hasMessageContaining("not long");
        assertThatThrownBy(() -> builder.handlers(new StaticHandler())).hasMessageContaining("must not be static");
        assertThatThrownBy(() -> builder.handlers(new TwoMetadata())).hasMessageContaining("two parameters of type "
                + "Metadata");
        assertThatThrownBy(() -> builder.handlers(new TwoResources())).hasMessageContaining("java.sql.Connection and "
                + "java.lang.StringBuilder");
        assertThatThrownBy(() -> builder.handlers(new TwoForOneType())).hasMessageContaining("two @EventHandler "
                + "methods for " + Numbered.class.getName());
        assertThatThrownBy(() -> TrackingProcessor.named("p").handlers(new ResetWithEvent()).build())
                .hasMessageContaining("@ResetHandler ResetWithEvent.clear(Numbered)")
                .hasMessageContaining("nor handed out by this processor's delivery");
        assertThatThrownBy(() -> builder.handlers(new NoHandlers())).hasMessageContaining("NoHandlers")
                .hasMessageContaining("has no @EventHandler method");
        assertThatThrownBy(() -> builder.handlers(Recorder.class)).hasMessageContaining("pass an instance");
        assertThatThrownBy(() -> SubscribingProcessor.named("s").handlers(new ReturnsSomething()))
                .hasMessageContaining("returns long");
    }

    @Test
    void every_optional_parameter_is_accepted_in_any_order() {
        TrackingProcessor processor = TrackingProcessor.named("p").handlers(new EveryParameter()).build();

        assertThat(processor.handlers()).hasSize(1);
    }

    @Test
    void the_same_handler_object_twice_is_refused() {
        Recorder recorder = new Recorder();

        assertThatThrownBy(() -> TrackingProcessor.named("p").handlers(recorder).handlers(recorder))
                .isInstanceOf(ProcessorDefinitionException.class).hasMessageContaining("same")
                .hasMessageContaining("twice");
    }

    @Test
    void a_resource_parameter_needs_a_delivery_that_hands_it_out() {
        assertThatThrownBy(() -> TrackingProcessor.named("p").handlers(new WantsConnection()).build())
                .isInstanceOf(ProcessorDefinitionException.class).hasMessageContaining("WantsConnection.on(Numbered, "
                        + "Connection)").hasMessageContaining("java.sql.Connection")
                .hasMessageContaining("Delivery.transactional");
        ProcessingTransactions strings = new ProcessingTransactions() {
            @Override
            public Class<?> resourceType() {
                return String.class;
            }

            @Override
            public TokenStore tokenStore() {
                return new InMemoryTokenStore();
            }

            @Override
            public ProcessingTransaction begin() {
                throw new UnsupportedOperationException();
            }
        };
        assertThatThrownBy(() -> TrackingProcessor.named("p").handlers(new WantsConnection())
                .delivery(Delivery.transactional(strings)).build())
                .hasMessageContaining("hands out a java.lang.String");
    }

    @Test
    void a_subscribing_processor_refuses_a_handler_that_takes_a_token() {
        assertThatThrownBy(() -> SubscribingProcessor.named("s").handlers(new WantsToken()).build())
                .isInstanceOf(ProcessorDefinitionException.class).hasMessageContaining("WantsToken.on(Numbered, "
                        + "TrackingToken)").hasMessageContaining("subscribing");
    }

    @Test
    void a_segment_count_that_is_not_positive_or_too_large_is_refused_naming_the_value() {
        assertThatThrownBy(() -> TrackingProcessor.named("balances").segments(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'balances'")
                .hasMessageContaining("but was 0");
        assertThatThrownBy(() -> TrackingProcessor.named("balances").segments(-3)).hasMessageContaining("but was -3");
        assertThatThrownBy(() -> TrackingProcessor.named("balances").segments(5000)).hasMessageContaining("4096")
                .hasMessageContaining("but was 5000");
        assertThatThrownBy(() -> TrackingProcessor.named("balances").batchSize(0)).hasMessageContaining("but was 0");
        assertThatThrownBy(() -> TrackingProcessor.named("balances").threads(0)).hasMessageContaining("but was 0");
        assertThatThrownBy(() -> TrackingProcessor.named("balances").pollInterval(Duration.ofMillis(1)))
                .hasMessageContaining("PT0.001S");
        assertThatThrownBy(() -> ErrorPolicy.builder().attempts(0)).hasMessageContaining("but was 0");
        assertThatThrownBy(() -> ErrorPolicy.builder().backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("PT2S").hasMessageContaining("PT1S");
    }

    @Test
    void a_bad_processor_name_is_refused_naming_it() {
        assertThatThrownBy(() -> TrackingProcessor.named("read model")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'read model'");
        assertThatThrownBy(() -> SubscribingProcessor.named("")).hasMessageContaining("''");
        assertThatThrownBy(() -> TrackingProcessor.named("x".repeat(101))).hasMessageContaining("101 characters");
    }

    @Test
    void a_processor_without_handlers_is_refused() {
        assertThatThrownBy(() -> TrackingProcessor.named("p").segments(2).build())
                .isInstanceOf(ProcessorDefinitionException.class).hasMessageContaining("'p' has no handler");
    }

    @Test
    void a_processor_name_used_twice_on_a_node_is_refused_at_registration() {
        Gyre.Builder builder = Gyre.builder().sharedEventStore(new InMemoryEventStore())
                .processor(TrackingProcessor.named("balances").handlers(new Recorder()));

        assertThatThrownBy(() -> builder.processor(SubscribingProcessor.named("balances").handlers(new Recorder())))
                .isInstanceOf(ProcessorDefinitionException.class).hasMessageContaining("'balances' is already "
                        + "registered").hasMessageContaining("TrackingProcessor[balances");
    }

    @Test
    void a_tracking_processor_on_a_durable_store_without_a_token_store_is_refused_at_start() {
        EventStore durable = new ForwardingEventStore(new InMemoryEventStore()) { };
        Gyre.Builder builder = Gyre.builder().sharedEventStore(durable)
                .processor(TrackingProcessor.named("balances").handlers(new Recorder()));

        assertThatThrownBy(builder::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'balances' needs a token store").hasMessageContaining("JdbcProcessingStore");
    }

    @Test
    void dead_lettering_without_a_dead_letter_store_is_refused_at_start() {
        EventStore durable = new ForwardingEventStore(new InMemoryEventStore()) { };
        Gyre.Builder builder = Gyre.builder().sharedEventStore(durable)
                .processing(ProcessingSettings.builder().tokenStore(new InMemoryTokenStore()).build())
                .processor(TrackingProcessor.named("balances").handlers(new Recorder())
                        .onError(ErrorPolicy.deadLetter()));

        assertThatThrownBy(builder::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'balances' puts failing events in a dead-letter store, but there is none");
    }

    @Test
    void a_changed_segment_count_is_refused_at_start_naming_both_counts() {
        InMemoryEventStore store = new InMemoryEventStore();
        InMemoryTokenStore tokens = new InMemoryTokenStore();
        Gyre.builder().sharedEventStore(store).processing(ProcessingSettings.builder().tokenStore(tokens).build())
                .processor(TrackingProcessor.named("balances").segments(4).handlers(new Recorder())).start().close();

        Gyre.Builder again = Gyre.builder().sharedEventStore(store)
                .processing(ProcessingSettings.builder().tokenStore(tokens).build())
                .processor(TrackingProcessor.named("balances").segments(8).handlers(new Recorder()));

        assertThatThrownBy(again::start).isInstanceOf(ProcessorDefinitionException.class)
                .hasMessageContaining("'balances' has tokens for 4 segments but is configured with 8");
    }

    @Test
    void an_unknown_processor_name_in_a_command_is_refused_with_the_known_names() {
        try (Gyre node = Gyre.builder().sharedEventStore(new InMemoryEventStore())
                .processor(TrackingProcessor.named("balances").handlers(new Recorder())).start()) {
            assertThatThrownBy(() -> node.processors().status("balance")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'balance'").hasMessageContaining("[balances]");
        }
    }
}
