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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of versioned schema files shipped in the jar for one dialect: their names in order, their checksums, and
 * their statements for the configured table names. A released file never changes; a change to the schema is a new
 * version. Two lines share one history table: the event store's ({@code V1__…}, {@code V2__…}) and the processing
 * store's ({@code P1__…}), which a read model's own database takes without the event store's; each line checks only
 * its own versions. Internal: not part of Gyre's API.
 */
public final class SchemaFiles {

    /** The event store's schema files, oldest first; a new version is a new file, never an edit of an old one. */
    static final List<String> EVENT_STORE = List.of(
            "V1__events_snapshots_tokens.sql",
            "V2__contiguity_checked_by_the_store.sql",
            "V3__commands_table_and_streams_keyed_by_type.sql",
            "V4__command_fingerprints.sql",
            "V5__event_revisions_and_snapshot_versions.sql",
            "V6__log_epoch_in_the_global_log_order.sql");

    /** The processing store's schema files (tokens with fencing epochs, dead letters), oldest first. */
    static final List<String> PROCESSING = List.of(
            "P1__processor_epochs_and_dead_letters.sql",
            "P2__dead_letter_event_revisions.sql");

    private static final Pattern ANY_LINE = Pattern.compile("[VP]\\d+__[A-Za-z0-9_]+\\.sql");

    private final String folder;
    private final List<String> versions;
    private final Pattern line;
    private final Map<String, String> names;

    private SchemaFiles(String folder, List<String> versions, String prefix, Map<String, String> names) {
        this.folder = Objects.requireNonNull(folder, "folder");
        this.versions = versions;
        this.line = Pattern.compile(prefix + "(\\d+)__[A-Za-z0-9_]+\\.sql");
        this.names = names;
    }

    /**
     * @param folder the resource folder of the dialect's files, ending in a slash
     * @param tables the table names to put into the statements
     * @return the event store's line
     */
    public static SchemaFiles eventStore(String folder, TableNames tables) {
        Map<String, String> names = new LinkedHashMap<>();
        names.put("${events_name}", TableNames.unqualified(tables.events()));
        names.put("${events}", tables.events());
        names.put("${commands_name}", TableNames.unqualified(tables.commands()));
        names.put("${commands}", tables.commands());
        names.put("${snapshots_name}", TableNames.unqualified(tables.snapshots()));
        names.put("${snapshots}", tables.snapshots());
        names.put("${tokens}", tables.tokens());
        return new SchemaFiles(folder, EVENT_STORE, "V", names);
    }

    /**
     * @param folder      the resource folder of the dialect's files, ending in a slash
     * @param tokens      the tokens table
     * @param deadLetters the dead-letter table
     * @return the processing store's line
     */
    public static SchemaFiles processing(String folder, String tokens, String deadLetters) {
        Map<String, String> names = new LinkedHashMap<>();
        names.put("${dead_letters_name}", TableNames.unqualified(deadLetters));
        names.put("${dead_letters}", deadLetters);
        names.put("${tokens}", tokens);
        return new SchemaFiles(folder, PROCESSING, "P", names);
    }

    /** @return the versions shipped, oldest first */
    public List<String> versions() {
        return versions;
    }

    /** @return the newest version shipped */
    public String newest() {
        return versions.get(versions.size() - 1);
    }

    /** @return where the files are, for messages: the folder and the versions */
    public String describe() {
        return folder + versions;
    }

    /**
     * @param version a version's file name, shipped or not
     * @return true when the name is of this line ({@code V…} or {@code P…}), whether shipped or not
     */
    public boolean ofThisLine(String version) {
        return line.matcher(version).matches();
    }

    /**
     * @param version a version's file name, shipped or not
     * @return true when the name is of either line
     */
    static boolean ofAnyLine(String version) {
        return ANY_LINE.matcher(version).matches();
    }

    /**
     * @param version a version's file name of this line
     * @return its number ({@code V12__x.sql} is 12), or -1 when the name is not of this line
     */
    public int number(String version) {
        Matcher matcher = line.matcher(version);
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
        String text = text(version);
        for (Map.Entry<String, String> name : names.entrySet()) {
            text = text.replace(name.getKey(), name.getValue());
        }
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
        if (!versions.contains(version)) {
            throw new IllegalArgumentException("Schema version " + version + " is not shipped; the versions are "
                    + versions);
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
