package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.TableNames;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything of the schema that the store relies on, table by table, as the shipped schema files make it: each
 * column's type, whether it may be NULL, its default and whether the database generates it, and each unique key
 * and index with what goes wrong without it. {@link SchemaValidator} holds a database to it. A change to the
 * schema files changes this too; the tests create the schema from the files and validate it against this.
 * Internal: not part of Gyre's API.
 */
final class ExpectedSchema {

    /**
     * A column as the store needs it.
     *
     * @param name     lower case
     * @param type     the type name JDBC metadata reports, lower case
     * @param nullable true when the store writes NULL into it
     * @param defaults the default expressions that do what the store needs; none when the store writes every value
     *                 itself
     * @param identity true when the database must generate its values
     */
    record Column(String name, String type, boolean nullable, Defaults defaults, boolean identity) {
    }

    /**
     * The default expressions a column may have.
     *
     * @param accepted what they may be, matched against the expression {@link #normalise normalised}; empty when
     *                 the store writes every value itself
     * @param needs    what they must be, for the message
     */
    record Defaults(List<Pattern> accepted, String needs) {

        static final Defaults NONE = new Defaults(List.of(), "none");

        /** @return these expressions exactly (normalised: lower case, no spaces), the first one named in messages */
        static Defaults anyOf(String... expressions) {
            return new Defaults(Arrays.stream(expressions).map(e -> Pattern.compile(Pattern.quote(e))).toList(),
                    expressions[0]);
        }

        /** @return true when a default is needed */
        boolean required() {
            return !accepted.isEmpty();
        }

        /** @return true when the expression, normalised, is one of these */
        boolean accepts(String normalised) {
            return accepted.stream().anyMatch(pattern -> pattern.matcher(normalised).matches());
        }
    }

    /**
     * A key or index the store relies on.
     *
     * @param columns   its columns in order
     * @param unique    true for a unique key; false for an index that reads need
     * @param withoutIt what goes wrong without it, for the message
     */
    record Key(List<String> columns, boolean unique, String withoutIt) {
    }

    /**
     * One table.
     *
     * @param name      its configured name
     * @param columns   every column the store reads or writes
     * @param keys      its unique keys and indexes
     * @param retired   columns of older versions that must be gone; may be empty
     * @param retiredBy the version that removed them, or null when there are none
     */
    record Table(String name, List<Column> columns, List<Key> keys, List<String> retired,
                 @Nullable String retiredBy) {
    }

    private ExpectedSchema() {
    }

    /**
     * @param postgres true for PostgreSQL, false for H2
     * @param tables   the configured table names
     * @return the tables, events first
     */
    static List<Table> of(boolean postgres, TableNames tables) {
        Types t = postgres ? new Types("text", "int8", "int4", "jsonb", "text", "timestamptz")
                : new Types("character varying", "bigint", "integer", "character large object",
                "character large object", "timestamp with time zone");
        Defaults none = Defaults.NONE;
        Defaults now = Defaults.anyOf("current_timestamp", "now()", "localtimestamp");
        List<Column> eventColumns = new java.util.ArrayList<>(List.of(
                new Column("global_position", t.bigint, false, none, true)));
        if (postgres) {
            eventColumns.add(new Column("transaction_id", "xid8", false, Defaults.anyOf("pg_current_xact_id()"), false));
            // The current log epoch, which the restore repair raises: any whole number, as PostgreSQL shows it.
            eventColumns.add(new Column("log_epoch", "int2", false, new Defaults(List.of(
                    Pattern.compile("\\(*'?\\d+'?\\)*(::smallint)?")), "a whole number (the current log epoch)"),
                    false));
        }
        eventColumns.addAll(List.of(
                new Column("aggregate_type", t.text, false, none, false),
                new Column("aggregate_id", t.text, false, none, false),
                new Column("sequence_number", t.bigint, false, none, false),
                new Column("event_id", t.text, false, none, false),
                new Column("command_id", t.text, false, none, false),
                new Column("event_type", t.text, false, none, false),
                new Column("payload", t.json, false, none, false),
                new Column("metadata", postgres ? t.json : t.text, false, none, false),
                new Column("occurred_at", t.timestamp, false, none, false),
                new Column("event_revision", t.integer, false, none, false)));
        List<Key> eventKeys = new java.util.ArrayList<>(List.of(
                new Key(List.of("global_position"), true, "two events could share a global position"),
                new Key(List.of("aggregate_type", "aggregate_id", "sequence_number"), true,
                        "two writers could store the same sequence number"),
                new Key(List.of("event_id"), true, "one event could be stored twice")));
        if (postgres) {
            eventKeys.add(new Key(List.of("log_epoch", "transaction_id", "global_position"), false,
                    "every read of the global log scans the whole table"));
        }
        Table events = new Table(tables.events(), List.copyOf(eventColumns), List.copyOf(eventKeys),
                List.of("command_key", "result_type", "result"), "V3__commands_table_and_streams_keyed_by_type.sql");
        Table commands = new Table(tables.commands(), List.of(
                new Column("aggregate_type", t.text, false, none, false),
                new Column("aggregate_id", t.text, false, none, false),
                new Column("command_id", t.text, false, none, false),
                new Column("decided_at", t.bigint, false, none, false),
                new Column("event_count", t.integer, false, none, false),
                new Column("outcome", t.text, false, none, false),
                new Column("result_type", t.text, true, none, false),
                new Column("result", t.largeText, true, none, false),
                new Column("refusal_type", t.text, true, none, false),
                new Column("refusal_message", t.text, true, none, false),
                new Column("recorded_at", t.timestamp, false, now, false),
                new Column("fingerprint", t.text, true, none, false)),
                List.of(new Key(List.of("aggregate_type", "aggregate_id", "command_id"), true,
                        "two deliveries of one command could both be decided")), List.of(), null);
        Table snapshots = new Table(tables.snapshots(), List.of(
                new Column("aggregate_type", t.text, false, none, false),
                new Column("aggregate_id", t.text, false, none, false),
                new Column("sequence_number", t.bigint, false, none, false),
                new Column("snapshot_type", t.text, false, none, false),
                new Column("payload", t.json, false, none, false),
                new Column("taken_at", t.timestamp, false, none, false),
                new Column("last_event_id", t.text, false, none, false),
                new Column("snapshot_revision", t.integer, false, none, false),
                new Column("shape_hash", t.text, false, none, false)),
                List.of(new Key(List.of("aggregate_type", "aggregate_id"), true,
                        "an aggregate could have several latest snapshots")), List.of(), null);
        Table tokens = new Table(tables.tokens(), List.of(
                new Column("processor_name", t.text, false, none, false),
                new Column("segment", t.integer, false, none, false),
                new Column("commit_order", t.bigint, false, none, false),
                new Column("position", t.bigint, false, none, false),
                new Column("owner", t.text, true, none, false),
                new Column("claimed_until", t.timestamp, true, none, false),
                new Column("updated_at", t.timestamp, false, none, false)),
                List.of(new Key(List.of("processor_name", "segment"), true,
                        "two nodes could each keep their own position of one segment")), List.of(), null);
        return List.of(events, commands, snapshots, tokens);
    }

    /**
     * @param expression a default expression as the database reports it
     * @return it lower case, without spaces, for comparison
     */
    static String normalise(String expression) {
        return expression.toLowerCase(Locale.ROOT).replaceAll("\\s+", "");
    }

    /** The type names of one dialect, as JDBC metadata reports them. */
    private record Types(String text, String bigint, String integer, String json, String largeText,
                         String timestamp) {
    }
}
