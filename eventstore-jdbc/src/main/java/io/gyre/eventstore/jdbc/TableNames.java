package io.gyre.eventstore.jdbc;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The tables of one event store. Each name is a plain SQL identifier, optionally qualified by a schema
 * ({@code bank.events}); nothing else is accepted, because names are the only part of Gyre's SQL that cannot be
 * a bind parameter.
 *
 * @param events        the events
 * @param commands      the decided commands: one row per command id and aggregate, with its outcome
 * @param snapshots     the aggregate snapshots
 * @param tokens        the event processors' tokens
 * @param schemaHistory the versions of Gyre's schema files applied
 */
public record TableNames(String events, String commands, String snapshots, String tokens, String schemaHistory) {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,47}");

    /** Checks every name. */
    public TableNames {
        check("events", events);
        check("commands", commands);
        check("snapshots", snapshots);
        check("tokens", tokens);
        check("schemaHistory", schemaHistory);
    }

    /**
     * @return {@code gyre_events}, {@code gyre_commands}, {@code gyre_snapshots}, {@code gyre_tokens},
     *         {@code gyre_schema_history}
     */
    public static TableNames defaults() {
        return withPrefix("gyre_");
    }

    /**
     * @param prefix prepended to {@code events}, {@code commands}, {@code snapshots}, {@code tokens} and
     *               {@code schema_history}; may end in a schema qualifier ({@code bank.gyre_})
     * @return the names
     * @throws IllegalArgumentException when a resulting name is not a valid identifier
     */
    public static TableNames withPrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return new TableNames(prefix + "events", prefix + "commands", prefix + "snapshots", prefix + "tokens",
                prefix + "schema_history");
    }

    /**
     * @param qualified a table name, possibly with a schema
     * @return the name without the schema
     */
    public static String unqualified(String qualified) {
        int dot = qualified.indexOf('.');
        return dot < 0 ? qualified : qualified.substring(dot + 1);
    }

    private static void check(String role, String name) {
        Objects.requireNonNull(name, role);
        String[] parts = name.split("\\.", -1);
        boolean valid = parts.length <= 2;
        for (String part : parts) {
            valid &= IDENTIFIER.matcher(part).matches();
        }
        if (!valid) {
            throw new IllegalArgumentException("Table name for " + role + " must be an identifier of letters, digits "
                    + "and underscores (at most 48, not starting with a digit), optionally schema-qualified, but was '"
                    + name + "'");
        }
    }
}
