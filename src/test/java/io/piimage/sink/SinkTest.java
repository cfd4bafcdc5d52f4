package io.piimage.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SinkTest {

    @TempDir
    Path dir;

    private static FileTree tree(String marker) {
        return FileTree.builder()
                .add(NodeFile.text("master1/user-data", "#cloud-config\n# " + marker + "\n", 0600))
                .add(NodeFile.text("master1/meta-data", "instance-id: x\n", 0600))
                .add(NodeFile.text("admin.conf", "apiVersion: v1\n", 0600))
                .build();
    }

    private List<Path> siblings() throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.toList();
        }
    }

    @Test
    void directoryOutputIsPrivateAndReplacesAnEarlierBake() throws IOException {
        Path out = dir.resolve("out");
        Sink.forPath(out).write(tree("one"));
        assertThat(Files.readString(out.resolve("master1/user-data"))).contains("one");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("master1")))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("admin.conf")))).isEqualTo("rw-------");

        Files.writeString(out.resolve("stale-node-file"), "from a node since removed from the plan");
        Sink.forPath(out).write(tree("two"));
        assertThat(Files.readString(out.resolve("master1/user-data"))).contains("two");
        assertThat(out.resolve("stale-node-file")).doesNotExist();
        assertThat(siblings()).containsExactly(out);
    }

    @Test
    void aDirectoryThatIsNotAnEarlierOutputIsNeverReplaced() throws IOException {
        Path home = Files.createDirectory(dir.resolve("home"));
        Files.writeString(home.resolve("precious"), "x");
        assertThatThrownBy(() -> Sink.forPath(home).write(tree("one")))
                .isInstanceOf(IOException.class).hasMessageContaining("not an earlier piimage output");
        assertThat(Files.readString(home.resolve("precious"))).isEqualTo("x");
        assertThat(siblings()).containsExactly(home);
    }

    @Test
    void aFailedWriteLeavesTheEarlierOutputAndNoTemporaryFiles() throws IOException {
        Path out = dir.resolve("out");
        Sink.forPath(out).write(tree("one"));
        // "master1" as a file, then "master1/user-data" beneath it: the second write fails half-way.
        FileTree clashing = FileTree.builder().add(NodeFile.text("master1", "x\n", 0600))
                .add(NodeFile.text("master1/user-data", "y\n", 0600)).build();
        assertThatThrownBy(() -> Sink.forPath(out).write(clashing)).isInstanceOf(IOException.class);
        assertThat(Files.readString(out.resolve("master1/user-data"))).contains("one");
        assertThat(siblings()).containsExactly(out);
    }

    @Test
    void archivesAreByteIdenticalAcrossBakesAndPrivate() throws IOException {
        for (String name : List.of("cards.tar.gz", "cards.zip")) {
            Path a = dir.resolve("a-" + name);
            Path b = dir.resolve("b-" + name);
            Sink.forPath(a).write(tree("same"));
            Sink.forPath(b).write(tree("same"));
            assertThat(Files.readAllBytes(a)).as(name).isEqualTo(Files.readAllBytes(b));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a))).isEqualTo("rw-------");
        }
        List<String> entries = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new GzipCompressorInputStream(Files.newInputStream(dir.resolve("a-cards.tar.gz"))))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                entries.add(e.getName() + " " + Integer.toOctalString(e.getMode()));
            }
        }
        assertThat(entries).containsExactly("master1/ 40700", "admin.conf 100600", "master1/meta-data 100600",
                "master1/user-data 100600");
    }
}
