package io.gyre.eventstore.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The embedded default, {@code JdbcEventStore.h2(Path)}, works with {@code gyre-eventstore-jdbc} alone, as the
 * README promises; where H2 or its pool (HikariCP) was excluded all the same, it fails with an error that names the
 * dependency to add.
 */
class EmbeddedDefaultTest {

    @TempDir
    Path folder;

    @Test
    void the_module_brings_h2_and_its_pool_to_its_users_as_dependencies_of_its_own() throws Exception {
        Path pom = Path.of("pom.xml");
        assertThat(pom).as("run from the module's folder").exists();
        NodeList dependencies = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile())
                .getElementsByTagName("dependency");
        for (String[] needed : new String[][] {{"com.h2database", "h2"}, {"com.zaxxer", "HikariCP"}}) {
            Element found = null;
            for (int i = 0; i < dependencies.getLength(); i++) {
                Element dependency = (Element) dependencies.item(i);
                if (text(dependency, "artifactId").equals(needed[1])) {
                    found = dependency;
                }
            }
            String name = needed[0] + ":" + needed[1];
            assertThat(found).as(name + " among the dependencies").isNotNull();
            assertThat(text(found, "groupId")).isEqualTo(needed[0]);
            assertThat(text(found, "optional")).as(name + " optional").isIn("", "false");
            assertThat(text(found, "scope")).as(name + " scope").isIn("", "compile", "runtime");
        }
    }

    @Test
    void without_h2_on_the_class_path_the_embedded_store_names_the_dependency_to_add() throws Exception {
        // The store's and core's classes, and slf4j, but no H2: as in a build that excluded it.
        List<URL> classPath = List.of(location(JdbcEventStore.class), location(io.gyre.GyreException.class),
                location(org.slf4j.LoggerFactory.class));
        try (URLClassLoader withoutH2 = new URLClassLoader(classPath.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            Class<?> store = withoutH2.loadClass(JdbcEventStore.class.getName());
            Path file = folder.resolve("data").resolve("events");
            Throwable thrown = catchThrowable(() -> store.getMethod("h2", Path.class).invoke(null, file));

            assertThat(thrown).isInstanceOf(InvocationTargetException.class);
            Throwable refused = thrown.getCause();
            assertThat(refused.getClass().getName()).isEqualTo("io.gyre.GyreNonTransientException");
            assertThat(refused.getMessage()).contains("com.h2database:h2").contains("JdbcEventStore.h2(" + file + ")")
                    .contains("JdbcEventStore.postgres(dataSource)");
            assertThat(Files.exists(file.getParent())).as("nothing created").isFalse();
        }
    }

    @Test
    void without_the_pool_on_the_class_path_the_embedded_store_names_the_dependency_to_add() throws Exception {
        // H2 is there, HikariCP was excluded.
        List<URL> classPath = List.of(location(JdbcEventStore.class), location(io.gyre.GyreException.class),
                location(org.slf4j.LoggerFactory.class), location(org.h2.Driver.class));
        try (URLClassLoader withoutPool = new URLClassLoader(classPath.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            Class<?> store = withoutPool.loadClass(JdbcEventStore.class.getName());
            Path file = folder.resolve("data").resolve("events");
            Throwable thrown = catchThrowable(() -> store.getMethod("h2", Path.class).invoke(null, file));

            assertThat(thrown).isInstanceOf(InvocationTargetException.class);
            Throwable refused = thrown.getCause();
            assertThat(refused.getClass().getName()).isEqualTo("io.gyre.GyreNonTransientException");
            assertThat(refused.getMessage()).contains("com.zaxxer:HikariCP").contains("JdbcEventStore.h2(" + file + ")");
            assertThat(Files.exists(file.getParent())).as("nothing created").isFalse();
        }
    }

    private static URL location(Class<?> type) {
        return type.getProtectionDomain().getCodeSource().getLocation();
    }

    private static String text(Element parent, String tag) {
        NodeList nodes = parent.getElementsByTagName(tag);
        return nodes.getLength() == 0 ? "" : nodes.item(0).getTextContent().strip();
    }
}
