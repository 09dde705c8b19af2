/**
 * The JDBC event store: {@link io.gyre.eventstore.jdbc.JdbcEventStore} over PostgreSQL 14+ (production) or
 * embedded H2 2.x (the default that needs no set-up), with its schema shipped as versioned SQL files.
 */
@NullMarked
package io.gyre.eventstore.jdbc;

import org.jspecify.annotations.NullMarked;
