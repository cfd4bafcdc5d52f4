package io.piimage.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rehearsal's package mirror is one that apt accepts the way a card's apt would: apt-get update
 * verifies its signature with the run's key, finds the packages and their dependencies, downloads them;
 * and a mirror whose index changed after signing is refused.
 */
class PackageMirrorTest {

    @TempDir
    Path tmp;

    @Test
    void aptVerifiesTheMirrorsSignatureAndInstallsFromItAndRefusesATamperedIndex() throws Exception {
        ExternalTool.requireRoot("apt-get with a private state");
        // A base with nothing installed: the mirror must hold jq and every dependency.
        Path base = Files.createDirectories(tmp.resolve("base/var/lib/dpkg"));
        Files.writeString(base.resolve("status"), "");
        try (PackageMirror mirror = PackageMirror.build(Files.createDirectories(tmp.resolve("mirror")), "trixie",
                tmp.resolve("base"), List.of("jq"))) {
            assertThat(mirror.debs()).anyMatch(d -> d.startsWith("jq_")).anyMatch(d -> d.startsWith("libjq1_"))
                    .anyMatch(d -> d.startsWith("libc6_"));
            int port = mirror.serve();
            Path key = Files.writeString(tmp.resolve("mirror-key.asc"), mirror.publicKey());
            Path apt = Files.createDirectories(tmp.resolve("apt"));
            for (String dir : List.of("lists/partial", "archives/partial", "parts", "prefs")) {
                Files.createDirectories(apt.resolve(dir));
            }
            Files.writeString(apt.resolve("status"), "");
            Files.writeString(apt.resolve("sources.list"),
                    "deb [signed-by=" + key + "] http://127.0.0.1:" + port + "/debian trixie main\n");

            ProcessResult update = ExternalTool.run(Duration.ofMinutes(5), apt(apt, "update"), null);
            assertThat(update.exitCode()).as(update.output()).isZero();
            assertThat(update.output()).doesNotContain("W: ", "E: ");
            ProcessResult install = ExternalTool.run(Duration.ofMinutes(5),
                    apt(apt, "install", "--download-only", "--yes", "jq"), null);
            assertThat(install.exitCode()).as(install.output()).isZero();
            try (var debs = Files.list(apt.resolve("archives"))) {
                assertThat(debs.map(p -> p.getFileName().toString()).toList()).anyMatch(d -> d.startsWith("jq_"));
            }
            assertThat(mirror.requests()).anyMatch(r -> r.matches("GET /debian/dists/trixie/InRelease 200"))
                    .anyMatch(r -> r.matches("GET /debian/pool/main/jq_.* 200"));

            // An index changed after signing: apt must refuse it, as a card's apt would.
            Path packages = tmp.resolve("mirror/debian/dists/trixie/main/binary-amd64/Packages");
            Files.writeString(packages, Files.readString(packages).replaceFirst("(?m)^Maintainer: .*", "Maintainer: x"));
            Files.delete(packages.resolveSibling("Packages.gz"));
            deleteLists(apt.resolve("lists"));
            ProcessResult tampered = ExternalTool.run(Duration.ofMinutes(5), apt(apt, "update"), null);
            assertThat(tampered.output()).containsAnyOf("Hash Sum mismatch", "File has unexpected size");
        }
    }

    private static void deleteLists(Path lists) throws Exception {
        try (var files = Files.list(lists)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Files.delete(p);
            }
        }
    }

    private static List<String> apt(Path apt, String... command) {
        List<String> c = new ArrayList<>(List.of("apt-get", "-q",
                "-o", "Dir::Etc::SourceList=" + apt.resolve("sources.list"),
                "-o", "Dir::Etc::SourceParts=" + apt.resolve("parts"),
                "-o", "Dir::Etc::PreferencesParts=" + apt.resolve("prefs"),
                "-o", "Dir::State::Lists=" + apt.resolve("lists"),
                "-o", "Dir::State::Status=" + apt.resolve("status"),
                "-o", "Dir::Cache::Archives=" + apt.resolve("archives"),
                "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
                "-o", "Debug::NoLocking=1",
                "-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64",
                "-o", "Acquire::Languages=none", "-o", "APT::Sandbox::User=root"));
        c.addAll(List.of(command));
        return c;
    }
}
