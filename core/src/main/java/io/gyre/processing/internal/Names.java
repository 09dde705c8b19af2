package io.gyre.processing.internal;

import io.gyre.processing.ProcessorDefinition;
import java.util.regex.Pattern;

/** The rule for processor names. Internal: not part of Gyre's API. */
public final class Names {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._-]{1," + ProcessorDefinition.MAX_NAME_LENGTH
            + "}");

    private Names() {
    }

    /**
     * @param name a name
     * @return true when it is 1 to 100 letters, digits or {@code . _ -}
     */
    public static boolean isValidProcessorName(String name) {
        return VALID.matcher(name).matches();
    }
}
