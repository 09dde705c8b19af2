package io.gyre.examples.bank;

import java.util.HashMap;
import java.util.Map;

/** Reads {@code --key=value} arguments of the example programs. */
public final class CommandLine {

    private CommandLine() {
    }

    /**
     * @param args the program's arguments
     * @return the options by key
     * @throws IllegalArgumentException naming the first argument that is not {@code --key=value}
     */
    public static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            int equals = arg.indexOf('=');
            if (!arg.startsWith("--") || equals < 3) {
                throw new IllegalArgumentException("Arguments are --key=value, not '" + arg + "'");
            }
            options.put(arg.substring(2, equals), arg.substring(equals + 1));
        }
        return options;
    }
}
