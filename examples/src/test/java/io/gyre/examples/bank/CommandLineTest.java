package io.gyre.examples.bank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandLineTest {

    @Test
    void key_value_arguments_are_read_and_anything_else_is_refused_naming_it() {
        assertThat(CommandLine.options(new String[] {"--duration=60", "--jdbc-url=jdbc:x?a=b"}))
                .isEqualTo(Map.of("duration", "60", "jdbc-url", "jdbc:x?a=b"));
        for (String bad : new String[] {"duration=60", "--duration", "--=5", "-d=1"}) {
            assertThatThrownBy(() -> CommandLine.options(new String[] {bad}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
        }
    }
}
