package io.piimage.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared file, digest and thread helpers, against the real filesystem. */
class FilesTest {

    @TempDir
    Path dir;

    @Test
    void atomicWriteReplacesWholeFilesAndLeavesNoTemporaryBehind() throws Exception {
        Path target = dir.resolve("a/b/admin.conf");
        AtomicWrite.writeString(target, "first\n", AtomicWrite.PRIVATE);
        assertThat(target).hasContent("first");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");
        AtomicWrite.writeString(target, "second\n");
        assertThat(target).hasContent("second");
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("admin.conf");
        }
    }

    @Test
    void aFailedAtomicWriteKeepsTheOldFile() throws Exception {
        Path target = dir.resolve("plan.yaml");
        Files.writeString(target, "old");
        Files.createDirectory(dir.resolve("plan.yaml.d"));
        // The rename fails when the target is a non-empty directory; the old file elsewhere stays untouched.
        Path blocked = dir.resolve("plan.yaml.d");
        Files.writeString(blocked.resolve("x"), "x");
        assertThatThrownBy(() -> AtomicWrite.writeString(blocked, "new")).isInstanceOf(IOException.class);
        assertThat(target).hasContent("old");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("plan.yaml", "plan.yaml.d");
        }
    }

    @Test
    void deleteRemovesATreeWithoutFollowingLinks() throws Exception {
        Path keep = Files.createDirectories(dir.resolve("keep"));
        Files.writeString(keep.resolve("precious"), "x");
        Path tree = Files.createDirectories(dir.resolve("tree/a/b"));
        Files.writeString(tree.resolve("f"), "x");
        Files.createSymbolicLink(dir.resolve("tree/link"), keep);
        FileTrees.delete(dir.resolve("tree"));
        assertThat(dir.resolve("tree")).doesNotExist();
        assertThat(keep.resolve("precious")).exists();
        FileTrees.delete(dir.resolve("tree")); // already gone: nothing to do
        FileTrees.deleteQuietly(null);
    }

    @Test
    void sha256MatchesTheKnownVectorAndTheFileForm() throws Exception {
        // FIPS 180-2's "abc" example.
        assertThat(Sha256.hex("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        Path file = dir.resolve("big");
        byte[] data = new byte[(3 << 20) + 17];
        new java.util.Random(7).nextBytes(data);
        Files.write(file, data);
        assertThat(Sha256.hex(file)).isEqualTo(Sha256.hex(data));
    }

    @Test
    void poolsAreNamedDaemonThreadsAndNeverWiderThanTheMachine() throws Exception {
        ExecutorService pool = Threads.pool("piimage-test", 1000);
        try {
            Future<List<Object>> seen = pool.submit(() -> List.of(Thread.currentThread().getName(), Thread.currentThread().isDaemon()));
            assertThat(seen.get()).containsExactly("piimage-test", true);
        } finally {
            pool.shutdown();
        }
        assertThat(((java.util.concurrent.ThreadPoolExecutor) pool).getMaximumPoolSize())
                .isEqualTo(Runtime.getRuntime().availableProcessors());
    }
}
