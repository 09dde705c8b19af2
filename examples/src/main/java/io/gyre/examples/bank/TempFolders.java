package io.gyre.examples.bank;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import org.jspecify.annotations.Nullable;

/**
 * Removes the temporary folders the example programs create for their databases and logs. They must not be left
 * behind: an H2 file written with {@code WRITE_DELAY=0} grows by a chunk per commit, so one benchmark run can
 * leave gigabytes in the temporary directory.
 */
public final class TempFolders {

    private TempFolders() {
    }

    /**
     * Deletes a folder and everything in it, contents before their folder. Call it only once the databases and
     * processes writing there are closed or stopped. Entries already gone are skipped. An entry that cannot be
     * deleted is left in place and reported in one line on standard error rather than thrown, so that cleaning
     * up never hides the outcome of the program itself.
     *
     * @param folder the folder to delete; nothing happens when it does not exist
     */
    public static void deleteRecursively(Path folder) {
        Deleter deleter = new Deleter();
        try {
            Files.walkFileTree(folder, deleter);
        } catch (IOException e) {
            deleter.note(e);
        }
        if (deleter.left > 0) {
            System.err.println("Could not delete " + deleter.left + " entries of temporary folder " + folder
                    + ", left them in place; first problem: " + deleter.firstProblem);
        }
    }

    /** Deletes each entry it visits and counts, instead of throwing, those it cannot delete. */
    private static final class Deleter extends SimpleFileVisitor<Path> {

        private int left;
        private @Nullable IOException firstProblem;

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
            delete(file);
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
            note(e);
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path directory, @Nullable IOException e) {
            if (e != null) {
                note(e);
            }
            delete(directory);
            return FileVisitResult.CONTINUE;
        }

        private void delete(Path path) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                note(e);
            }
        }

        private void note(IOException e) {
            // An entry removed by someone else meanwhile is gone, which is all we wanted.
            if (e instanceof NoSuchFileException) {
                return;
            }
            left++;
            if (firstProblem == null) {
                firstProblem = e;
            }
        }
    }
}
