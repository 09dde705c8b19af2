package io.gyre.eventstore.jdbc;

import java.util.Locale;

/** The databases the JDBC event store speaks. */
public enum Dialect {
    /** PostgreSQL 14 or later: the production database, shared by every node of a cluster. */
    POSTGRES("postgres"),
    /**
     * H2 2.x, embedded in one process: the default for development and single-node use. Several processes must
     * not share one H2 database (see {@link JdbcEventStore}).
     */
    H2("h2");

    private final String folder;

    Dialect(String folder) {
        this.folder = folder;
    }

    /** @return the resource folder of this dialect's schema files */
    String schemaFolder() {
        return "io/gyre/eventstore/jdbc/schema/" + folder + "/";
    }

    /**
     * @param productName {@code DatabaseMetaData.getDatabaseProductName()}
     * @return the dialect for it
     * @throws IllegalArgumentException for any other database
     */
    static Dialect forProduct(String productName) {
        String name = productName.toLowerCase(Locale.ROOT);
        if (name.contains("postgres")) {
            return POSTGRES;
        }
        if (name.equals("h2")) {
            return H2;
        }
        throw new IllegalArgumentException("The JDBC event store supports PostgreSQL and H2, not " + productName);
    }
}
