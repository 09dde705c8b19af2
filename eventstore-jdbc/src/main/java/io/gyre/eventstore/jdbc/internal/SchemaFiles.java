package io.gyre.eventstore.jdbc.internal;

import io.gyre.eventstore.jdbc.TableNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The versioned schema files shipped in the jar for one dialect: their names in order, their checksums, and their
 * statements for the configured table names. A released file never changes; a change to the schema is a new
 * version. Internal: not part of Gyre's API.
 */
public final class SchemaFiles {

    /** The schema files, oldest first; a new version is a new file, never an edit of an old one. */
    static final List<String> VERSIONS = List.of(
            "V1__events_snapshots_tokens.sql",
            "V2__contiguity_checked_by_the_store.sql",
            "V3__commands_table_and_streams_keyed_by_type.sql",
            "V4__command_fingerprints.sql");

    private static final Pattern VERSION = Pattern.compile("V(\\d+)__[A-Za-z0-9_]+\\.sql");

    private final String folder;
    private final TableNames tables;

    /**
     * @param folder the resource folder of the dialect's files, ending in a slash
     * @param tables the table names to put into the statements
     */
    public SchemaFiles(String folder, TableNames tables) {
        this.folder = Objects.requireNonNull(folder, "folder");
        this.tables = Objects.requireNonNull(tables, "tables");
    }

    /** @return the versions shipped, oldest first */
    public List<String> versions() {
        return VERSIONS;
    }

    /** @return the newest version shipped */
    public String newest() {
        return VERSIONS.get(VERSIONS.size() - 1);
    }

    /** @return where the files are, for messages: the folder and the versions */
    public String describe() {
        return folder + VERSIONS;
    }

    /**
     * @param version a version's file name, shipped or not
     * @return its number ({@code V12__x.sql} is 12), or -1 when the name is not a version's
     */
    public static int number(String version) {
        Matcher matcher = VERSION.matcher(version);
        return matcher.matches() ? Integer.parseInt(matcher.group(1)) : -1;
    }

    /**
     * The checksum recorded when a version is applied: SHA-256 of the file as shipped, before the table names are
     * put in (so that it is the same for every configuration), with line endings normalised to LF.
     *
     * @param version a shipped version
     * @return the checksum in lower-case hexadecimal
     */
    public String checksum(String version) {
        byte[] text = text(version).replace("\r\n", "\n").getBytes(StandardCharsets.UTF_8);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM, which every Java platform must have", e);
        }
    }

    /**
     * @param version a shipped version
     * @return its statements, with the configured table names, without their closing semicolons
     */
    public List<String> statements(String version) {
        String text = text(version)
                .replace("${events_name}", TableNames.unqualified(tables.events()))
                .replace("${events}", tables.events())
                .replace("${commands_name}", TableNames.unqualified(tables.commands()))
                .replace("${commands}", tables.commands())
                .replace("${snapshots_name}", TableNames.unqualified(tables.snapshots()))
                .replace("${snapshots}", tables.snapshots())
                .replace("${tokens}", tables.tokens());
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inBody = false;
        for (String line : text.split("\n")) {
            String trimmed = line.strip();
            if (!inBody && (trimmed.startsWith("--") || trimmed.isEmpty())) {
                continue;
            }
            current.append(line).append('\n');
            // A dollar-quoted function body holds semicolons of its own.
            if ((line.length() - line.replace("$$", "").length()) / 2 % 2 == 1) {
                inBody = !inBody;
            }
            if (!inBody && trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                statements.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        return statements;
    }

    private String text(String version) {
        if (!VERSIONS.contains(version)) {
            throw new IllegalArgumentException("Schema version " + version + " is not shipped; the versions are "
                    + VERSIONS);
        }
        try (InputStream in = SchemaFiles.class.getClassLoader().getResourceAsStream(folder + version)) {
            if (in == null) {
                throw new IllegalStateException("Schema file " + folder + version + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Reading schema file " + folder + version + " failed", e);
        }
    }
}
