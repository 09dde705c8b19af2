package io.gyre.eventstore.jdbc.internal;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What the database says of a table through JDBC metadata, the same way on PostgreSQL and H2: whether it exists,
 * its columns and its indexes. An unqualified table name is looked up in the connection's current schema only (a
 * table of the same name in another schema is not this one), and its name is matched literally, not as a pattern.
 * Internal: not part of Gyre's API.
 */
final class Catalog {

    /**
     * One column.
     *
     * @param name         lower case
     * @param type         the database's type name, lower case ({@code int8}, {@code character varying})
     * @param nullable     true when it allows NULL
     * @param defaultValue its default expression, or null for none
     * @param identity     true when the database generates its values
     */
    record Column(String name, String type, boolean nullable, @Nullable String defaultValue, boolean identity) {
    }

    /**
     * One index, a primary key and a unique constraint included.
     *
     * @param name    its name
     * @param unique  true when it refuses duplicates
     * @param columns its columns in order, lower case; an expression's text where a column would be
     * @param partial true when it covers only rows matching a condition
     * @param valid   false when the database keeps it but does not use it: on PostgreSQL, an index that a failed or
     *                cancelled {@code CREATE INDEX CONCURRENTLY} left behind
     */
    record Index(String name, boolean unique, List<String> columns, boolean partial, boolean valid) {
    }

    private final DatabaseMetaData meta;
    private final @Nullable String currentSchema;

    /**
     * @param connection an open connection
     * @throws SQLException when the database fails
     */
    Catalog(Connection connection) throws SQLException {
        this.meta = connection.getMetaData();
        this.currentSchema = connection.getSchema();
    }

    /**
     * @param qualified a table name, possibly with its schema
     * @return true when the table exists
     * @throws SQLException when the database fails
     */
    boolean exists(String qualified) throws SQLException {
        Name name = name(qualified);
        try (ResultSet rows = meta.getTables(null, name.schemaPattern, name.tablePattern, null)) {
            return rows.next();
        }
    }

    /**
     * @param qualified a table name, possibly with its schema
     * @return its columns by lower-case name, in table order; empty when the table does not exist
     * @throws SQLException when the database fails
     */
    Map<String, Column> columns(String qualified) throws SQLException {
        Name name = name(qualified);
        Map<String, Column> columns = new LinkedHashMap<>();
        try (ResultSet rows = meta.getColumns(null, name.schemaPattern, name.tablePattern, null)) {
            while (rows.next()) {
                String column = rows.getString("COLUMN_NAME").toLowerCase(Locale.ROOT);
                columns.put(column, new Column(column, rows.getString("TYPE_NAME").toLowerCase(Locale.ROOT),
                        !"NO".equals(rows.getString("IS_NULLABLE")), rows.getString("COLUMN_DEF"),
                        "YES".equals(rows.getString("IS_AUTOINCREMENT"))));
            }
        }
        return columns;
    }

    /**
     * @param qualified a table name, possibly with its schema
     * @return its indexes
     * @throws SQLException when the database fails
     */
    List<Index> indexes(String qualified) throws SQLException {
        Name name = name(qualified);
        Map<String, TreeMap<Integer, String>> columns = new LinkedHashMap<>();
        Map<String, Boolean> unique = new LinkedHashMap<>();
        Map<String, Boolean> partial = new LinkedHashMap<>();
        try (ResultSet rows = meta.getIndexInfo(null, name.exactSchema, name.exactTable, false, true)) {
            while (rows.next()) {
                String index = rows.getString("INDEX_NAME");
                if (index == null || rows.getShort("TYPE") == DatabaseMetaData.tableIndexStatistic) {
                    continue;
                }
                String column = rows.getString("COLUMN_NAME");
                columns.computeIfAbsent(index, key -> new TreeMap<>()).put((int) rows.getShort("ORDINAL_POSITION"),
                        column == null ? "?" : column.toLowerCase(Locale.ROOT));
                unique.put(index, !rows.getBoolean("NON_UNIQUE"));
                String filter = rows.getString("FILTER_CONDITION");
                partial.merge(index, filter != null && !filter.isBlank(), Boolean::logicalOr);
            }
        }
        Set<String> invalid = invalidIndexes(name);
        List<Index> indexes = new ArrayList<>();
        columns.forEach((index, ordered) -> indexes.add(new Index(index, unique.get(index),
                List.copyOf(ordered.values()), partial.get(index), !invalid.contains(index))));
        return indexes;
    }

    /**
     * JDBC metadata lists an index that PostgreSQL does not use (indisvalid false, after a failed concurrent build)
     * like any other; {@code CREATE INDEX IF NOT EXISTS} then keeps it, so only the catalog tells. H2 has no such
     * state.
     */
    private Set<String> invalidIndexes(Name name) throws SQLException {
        if (!"PostgreSQL".equals(meta.getDatabaseProductName())) {
            return Set.of();
        }
        Set<String> invalid = new HashSet<>();
        try (PreparedStatement query = meta.getConnection().prepareStatement("SELECT index_class.relname FROM pg_index"
                + " JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid"
                + " JOIN pg_class table_class ON table_class.oid = pg_index.indrelid"
                + " JOIN pg_namespace ON pg_namespace.oid = table_class.relnamespace"
                + " WHERE table_class.relname = ? AND pg_namespace.nspname = coalesce(?, current_schema())"
                + " AND NOT (pg_index.indisvalid AND pg_index.indisready)")) {
            query.setString(1, name.exactTable);
            query.setString(2, name.exactSchema);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    invalid.add(rows.getString(1));
                }
            }
        }
        return invalid;
    }

    /** A table name split and cased as the database stores unquoted identifiers, literally and as a pattern. */
    private record Name(@Nullable String exactSchema, String exactTable, @Nullable String schemaPattern,
                        String tablePattern) {
    }

    private Name name(String qualified) throws SQLException {
        String cased = meta.storesUpperCaseIdentifiers() ? qualified.toUpperCase(Locale.ROOT)
                : qualified.toLowerCase(Locale.ROOT);
        int dot = cased.indexOf('.');
        String schema = dot < 0 ? currentSchema : cased.substring(0, dot);
        String table = dot < 0 ? cased : cased.substring(dot + 1);
        return new Name(schema, table, schema == null ? null : escape(schema), escape(table));
    }

    /** Makes the name's own underscores literal in a metadata pattern, where an underscore matches any character. */
    private String escape(String identifier) throws SQLException {
        String escape = meta.getSearchStringEscape();
        if (escape == null || escape.isEmpty()) {
            return identifier;
        }
        return identifier.replace(escape, escape + escape).replace("_", escape + "_").replace("%", escape + "%");
    }
}
