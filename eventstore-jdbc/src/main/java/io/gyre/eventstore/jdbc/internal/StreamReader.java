package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.CommandRecord;
import io.gyre.eventstore.StoredEvent;
import io.gyre.eventstore.StreamId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;

/**
 * Reads one stream: its events in pages, its last sequence number, and its commands' records. Each page is a
 * query of its own, so a long stream loads in constant memory and a stream abandoned half-read holds no
 * connection. Internal: not part of Gyre's API.
 */
public final class StreamReader {

    private final Connections connections;
    private final Failures failures;
    private final int pageSize;

    /**
     * @param connections where connections come from
     * @param failures    translates driver errors
     * @param pageSize    events per query, 1 or more
     */
    public StreamReader(Connections connections, Failures failures, int pageSize) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.pageSize = pageSize;
    }

    /**
     * @param stream       the stream
     * @param fromSequence the first sequence number wanted, 0 or more
     * @return its events from that number, fetched lazily a page at a time
     */
    public Stream<StoredEvent> read(StreamId stream, long fromSequence) {
        return read(stream, fromSequence, null);
    }

    /**
     * @param stream       the stream
     * @param fromSequence the first sequence number wanted, 0 or more
     * @param firstPage    its first page, read already (by a query of {@link #pageSize()} rows at most), or null
     * @return its events from that number, the first page's and then the others', fetched lazily a page at a time
     */
    public Stream<StoredEvent> read(StreamId stream, long fromSequence, @Nullable List<StoredEvent> firstPage) {
        Objects.requireNonNull(stream, "stream");
        if (fromSequence < 0) {
            throw new IllegalArgumentException("fromSequence must be 0 or more, but was " + fromSequence);
        }
        Iterator<StoredEvent> pages = new Iterator<>() {
            private List<StoredEvent> page = firstPage == null ? Collections.emptyList() : firstPage;
            private int index;
            private long next = page.isEmpty() ? fromSequence : page.get(page.size() - 1).sequence() + 1;
            private boolean exhausted = firstPage != null && firstPage.size() < pageSize;

            @Override
            public boolean hasNext() {
                if (index < page.size()) {
                    return true;
                }
                if (exhausted) {
                    return false;
                }
                page = readPage(stream, next);
                index = 0;
                exhausted = page.size() < pageSize;
                if (!page.isEmpty()) {
                    next = page.get(page.size() - 1).sequence() + 1;
                }
                return !page.isEmpty();
            }

            @Override
            public StoredEvent next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return page.get(index++);
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(pages,
                Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT), false);
    }

    /** @return events per query */
    public int pageSize() {
        return pageSize;
    }

    private List<StoredEvent> readPage(StreamId stream, long fromSequence) {
        try {
            return connections.read(connection -> {
                try (PreparedStatement query = connections.prepare(connection, connections.sql().readStreamPage())) {
                    Statements.bindStream(query, stream);
                    query.setLong(3, fromSequence);
                    query.setInt(4, pageSize);
                    List<StoredEvent> page = new ArrayList<>();
                    try (ResultSet rows = query.executeQuery()) {
                        while (rows.next()) {
                            page.add(Statements.event(rows));
                        }
                    }
                    return page;
                }
            });
        } catch (SQLException e) {
            throw failures.of("Reading the stream of " + stream + " from sequence " + fromSequence, e);
        }
    }

    /**
     * @param stream the stream
     * @return the sequence number of its last event, -1 when it has none
     */
    public long lastSequence(StreamId stream) {
        Objects.requireNonNull(stream, "stream");
        try {
            return connections.read(connection -> lastSequence(connection, stream));
        } catch (SQLException e) {
            throw failures.of("Reading the last sequence number of " + stream, e);
        }
    }

    /**
     * @param connection a connection, in or out of a transaction
     * @param stream     the stream
     * @return the sequence number of its last event, -1 when it has none
     * @throws SQLException when the database fails
     */
    public long lastSequence(Connection connection, StreamId stream) throws SQLException {
        try (PreparedStatement query = connections.prepare(connection, connections.sql().lastSequence())) {
            Statements.bindStream(query, stream);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? rows.getLong(1) : -1;
            }
        }
    }

    /**
     * @param stream    the stream
     * @param commandId the command
     * @return its record, one query; empty when it is not decided
     */
    public Optional<CommandRecord> findCommand(StreamId stream, String commandId) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(commandId, "commandId");
        try {
            return connections.read(connection -> findCommand(connection, stream, commandId));
        } catch (SQLException e) {
            throw failures.of("Looking up command " + commandId + " of " + stream, e);
        }
    }

    /**
     * @param connection a connection, in or out of a transaction
     * @param stream     the stream
     * @param commandId  the command
     * @return its record; empty when it is not decided
     * @throws SQLException when the database fails
     */
    public Optional<CommandRecord> findCommand(Connection connection, StreamId stream, String commandId)
            throws SQLException {
        try (PreparedStatement query = connections.prepare(connection, connections.sql().findCommand())) {
            Statements.bindStream(query, stream);
            query.setString(3, commandId);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? Optional.of(connections.sql().command(rows, stream, commandId))
                        : Optional.empty();
            }
        }
    }
}
