package io.piimage.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The helper that other tests use to run a Debian suite's own files: it must give trixie's, not the host's. */
class DebianPackagesTest {

    @Test
    void extractsTrixiesCloudInitUnitsFromDebiansArchive() throws Exception {
        String version = DebianPackages.version("trixie", "cloud-init");
        assertThat(version).startsWith("25.");
        Path root = DebianPackages.extract("trixie", "cloud-init");
        Path finalUnit = root.resolve("usr/lib/systemd/system/cloud-final.service");
        assertThat(finalUnit).exists();
        assertThat(Files.readString(finalUnit)).contains("After=multi-user.target");
        // A second call uses the cache and gives the same tree.
        assertThat(DebianPackages.extract("trixie", "cloud-init")).isEqualTo(root);
    }
}
