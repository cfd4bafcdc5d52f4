package io.piimage.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bake --restore-from}: a file that is not a complete etcd snapshot is refused before anything is
 * written; a snapshot goes onto the first control plane's boot partition and no other card. (The restore
 * itself runs in AssemblyProtocolTest, with a real etcd snapshot.)
 */
class RestoreFromTest {

    @TempDir
    Path dir;

    /** bbolt's first page (its magic at offset 16) and the SHA-256 of it: what EtcdSnapshot checks, no more. */
    static byte[] snapshotShape() throws Exception {
        byte[] db = new byte[4096];
        db[16] = (byte) 0xed;
        db[17] = (byte) 0xda;
        db[18] = 0x0c;
        db[19] = (byte) 0xed;
        byte[] sum = MessageDigest.getInstance("SHA-256").digest(db);
        byte[] file = Arrays.copyOf(db, db.length + sum.length);
        System.arraycopy(sum, 0, file, db.length, sum.length);
        return file;
    }

    @Test
    void aFileThatIsNotASnapshotIsRefusedAndNothingIsWritten() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        byte[] cut = Arrays.copyOf(snapshotShape(), 4000);
        Path bad = Files.write(dir.resolve("cut.db"), cut);
        assertThatThrownBy(() -> Bake.builder(plan).output(dir.resolve("out")).restoreFrom(bad).build().run())
                .isInstanceOf(BakeException.class).hasMessageContaining("--restore-from: " + bad + " is not a complete etcd snapshot");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("makina.yaml", "cut.db");
        }
    }

    @Test
    void theSnapshotGoesOntoTheFirstControlPlanesCardOnly() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path snapshot = Files.write(dir.resolve("etcd.db"), snapshotShape());
        Bake.Result result = Bake.builder(plan).output(dir.resolve("out")).restoreFrom(snapshot).build().run();
        String first = result.plan().firstControlPlane().name();
        List<String> carrying = result.cards().stream()
                .filter(card -> card.bootFiles().file(RestoreSnapshot.BOOT_FILE).isPresent()).map(card -> card.node().name()).toList();
        assertThat(carrying).containsExactly(first);
        assertThat(Files.readAllBytes(dir.resolve("out").resolve(first).resolve("piimage-restore.db"))).isEqualTo(snapshotShape());
        assertThat(Files.getPosixFilePermissions(dir.resolve("out").resolve(first).resolve("piimage-restore.db"))).hasSize(2);
    }
}
