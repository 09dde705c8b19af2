package io.gyre.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gyre.testmodel.CounterCommands.Add;
import org.junit.jupiter.api.Test;

class CommandMessageTargetIdTest {

    record Untargeted(String id) {
    }

    @Test
    void the_target_aggregate_id_is_read_as_the_routing_key_is() {
        Add add = new Add("counter-7", 3);

        assertThat(CommandMessage.targetAggregateIdOf(add)).isEqualTo("counter-7")
                .isEqualTo(CommandMessage.of(add).routingKey());
    }

    @Test
    void bad_input_is_named() {
        assertThatThrownBy(() -> CommandMessage.targetAggregateIdOf(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("command");
        assertThatThrownBy(() -> CommandMessage.targetAggregateIdOf(new Untargeted("x")))
                .isInstanceOf(MissingTargetAggregateIdException.class);
        assertThatThrownBy(() -> CommandMessage.targetAggregateIdOf(new Add(" ", 1)))
                .isInstanceOf(MissingTargetAggregateIdException.class);
    }

    /** A JDK class sent by mistake was answered with advice to open a module to Gyre. */
    @Test
    void a_jdk_class_sent_as_a_command_is_told_it_has_no_target_id_not_to_open_a_module() {
        assertThatThrownBy(() -> CommandMessage.targetAggregateIdOf("withdraw 30 from acc-1"))
                .isInstanceOf(MissingTargetAggregateIdException.class)
                .hasMessage("Command java.lang.String has no @TargetAggregateId member; annotate the record "
                        + "component, field or getter that names the target aggregate");
    }
}
