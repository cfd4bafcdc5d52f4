package io.piimage.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release files {@code mvn package} builds (the .deb and the tarball), checked after the package
 * phase (Failsafe, in {@code mvn verify}) with the real tools: dpkg-deb's view of the control fields and
 * the file list, lintian, the gzip headers and entry times that make two builds identical, and the
 * launcher of each layout run from an unpacked copy.
 */
class PackageContentsIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final String VERSION = System.getProperty("piimage.version", "0.1.0");
    /** project.build.outputTimestamp as dpkg-deb and tar print it. */
    private static final String STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC)
            .format(Instant.parse(System.getProperty("piimage.outputTimestamp", "2026-01-01T00:00:00Z")));
    private static final List<String> PAGES = List.of("piimage", "piimage-bake", "piimage-check", "piimage-init",
            "piimage-status", "piimage-wait", "piimage-kubeconfig", "piimage-snapshot", "piimage-renew",
            "piimage-diagram", "piimage-images",
            "piimage-schema", "piimage-completion", "piimage-man");

    @TempDir
    Path tmp;

    private static Path deb() {
        Path deb = Project.root().resolve("target/piimage_" + VERSION + "_all.deb");
        assertThat(deb).as("built by mvn package").isRegularFile();
        return deb;
    }

    private static Path tarball() {
        Path tar = Project.root().resolve("target/piimage-" + VERSION + ".tar.gz");
        assertThat(tar).as("built by mvn package").isRegularFile();
        return tar;
    }

    private static ProcessResult ok(List<String> command, Path dir) {
        ProcessResult result = ExternalTool.run(TIMEOUT, command, dir);
        assertThat(result.exitCode()).as(String.join(" ", command) + "\n" + result.output()).isZero();
        return result;
    }

    @Test
    void debControlFieldsNameAJava17RuntimeAndTheVersion() {
        Path dpkgDeb = ExternalTool.require("dpkg-deb");
        Map<String, String> fields = new TreeMap<>();
        for (String field : List.of("Package", "Version", "Architecture", "Depends", "Maintainer", "Section", "Description")) {
            fields.put(field, ok(List.of(dpkgDeb.toString(), "--field", deb().toString(), field), tmp).stdout().strip());
        }
        assertThat(fields).containsEntry("Package", "piimage").containsEntry("Version", VERSION)
                .containsEntry("Architecture", "all")
                .containsEntry("Depends", "default-jre-headless (>= 2:1.17) | java17-runtime-headless");
        assertThat(fields.get("Maintainer")).matches(".+ <[^>]+@[^>]+>");
        String info = ok(List.of(dpkgDeb.toString(), "--info", deb().toString()), tmp).stdout();
        assertThat(info).contains(" control ", " md5sums ").doesNotContain("postinst", "preinst", "postrm", "prerm");
    }

    @Test
    void debInstallsTheCommandJarManPagesCompletionAndCopyrightOnly() {
        Path dpkgDeb = ExternalTool.require("dpkg-deb");
        // drwxr-xr-x root/root 0 2026-01-01 00:00 ./usr/bin/
        Map<String, String> files = new TreeMap<>();
        for (String line : ok(List.of(dpkgDeb.toString(), "--contents", deb().toString()), tmp).stdout().split("\n")) {
            String[] f = line.trim().split("\\s+", 6);
            assertThat(f[1]).as(line).isEqualTo("root/root");
            assertThat(f[3] + " " + f[4]).as("entry time from project.build.outputTimestamp: " + line).isEqualTo(STAMP);
            if (!f[0].startsWith("d")) {
                files.put(f[5], f[0]);
            }
        }
        Map<String, String> expected = new TreeMap<>();
        expected.put("./usr/bin/piimage", "-rwxr-xr-x");
        expected.put("./usr/share/piimage/piimage.jar", "-rw-r--r--");
        expected.put("./usr/share/bash-completion/completions/piimage", "-rw-r--r--");
        expected.put("./usr/share/doc/piimage/copyright", "-rw-r--r--");
        expected.put("./usr/share/doc/piimage/changelog.gz", "-rw-r--r--");
        for (String page : PAGES) {
            expected.put("./usr/share/man/man1/" + page + ".1.gz", "-rw-r--r--");
        }
        assertThat(files).isEqualTo(expected);
    }

    @Test
    void extractedDebRunsItsLauncherAndCarriesGeneratedPages() throws IOException {
        Path dpkgDeb = ExternalTool.require("dpkg-deb");
        Path root = tmp.resolve("root");
        ok(List.of(dpkgDeb.toString(), "-x", deb().toString(), root.toString()), tmp);
        // The launcher finds the jar relative to itself (../share/piimage), so the extracted tree runs.
        assertThat(ok(List.of("env", "XDG_CACHE_HOME=" + tmp.resolve("cache"), root.resolve("usr/bin/piimage").toString(),
                "--version"), tmp).stdout().strip()).isEqualTo("piimage " + VERSION);
        String bakePage = gunzip(root.resolve("usr/share/man/man1/piimage-bake.1.gz"));
        assertThat(bakePage).contains(".TH PIIMAGE\\-BAKE 1 \"\" \"piimage " + VERSION + "\"", ".SH OPTIONS", "\\-\\-base\\-image");
        assertThat(gunzip(root.resolve("usr/share/doc/piimage/changelog.gz"))).startsWith("piimage (" + VERSION + ") ");
        // DEP-5, piimage itself under the Apache License 2.0 (the full text is Debian's common-licenses copy).
        String copyright = Files.readString(root.resolve("usr/share/doc/piimage/copyright"));
        assertThat(copyright).startsWith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
                .contains("Files: *\nCopyright: 2026 the piimage authors\nLicense: Apache-2.0\n")
                .contains("/usr/share/common-licenses/Apache-2.0");
        String completion = Files.readString(root.resolve("usr/share/bash-completion/completions/piimage"));
        assertThat(completion).doesNotStartWith("#!").contains("complete -F _complete_piimage");
        assertThat(Files.readString(root.resolve("usr/bin/piimage"))).contains("version='" + VERSION + "'")
                .doesNotContain("@VERSION@");
    }

    @Test
    void debIsLintianClean() {
        Path lintian = ExternalTool.require("lintian");
        ProcessResult result = ExternalTool.run(TIMEOUT,
                List.of(lintian.toString(), "--fail-on", "error,warning,info,pedantic", "-I", "--pedantic", deb().toString()), tmp);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout()).as("lintian tags").isBlank();
    }

    @Test
    void tarballHasTheReleaseLayoutAndRunsFromWhereItIsUnpacked() throws IOException {
        Path tar = ExternalTool.require("tar");
        List<String> entries = new ArrayList<>();
        for (String line : ok(List.of(tar.toString(), "-tvzf", tarball().toString()), tmp).stdout().split("\n")) {
            String[] f = line.trim().split("\\s+", 6);
            assertThat(f[3] + " " + f[4]).as("entry time from project.build.outputTimestamp: " + line).isEqualTo(STAMP);
            if (!f[0].startsWith("d")) {
                entries.add(f[0] + " " + f[5]);
            }
        }
        String top = "piimage-" + VERSION + "/";
        assertThat(entries).contains("-rwxr-xr-x " + top + "bin/piimage", "-rw-r--r-- " + top + "lib/piimage.jar",
                "-rw-r--r-- " + top + "completion/piimage", "-rw-r--r-- " + top + "README", "-rw-r--r-- " + top + "LICENSE",
                "-rw-r--r-- " + top + "examples/makina.yaml", "-rw-r--r-- " + top + "man/man1/piimage-bake.1.gz");
        for (String page : PAGES) {
            assertThat(entries).contains("-rw-r--r-- " + top + "man/man1/" + page + ".1.gz");
        }
        assertThat(entries).allMatch(e -> e.split(" ")[1].startsWith(top));

        ok(List.of(tar.toString(), "-xzf", tarball().toString(), "-C", tmp.toString()), tmp);
        Path home = tmp.resolve(top);
        assertThat(Files.readString(home.resolve("LICENSE"))).as("the Apache License 2.0, in full")
                .contains("Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS", "APPENDIX");
        assertThat(ok(List.of("env", "XDG_CACHE_HOME=" + tmp.resolve("cache"), home.resolve("bin/piimage").toString(),
                "--version"), tmp).stdout().strip()).isEqualTo("piimage " + VERSION);
    }

    @Test
    void gzipHeadersCarryNoTimeSoRebuildsAreIdentical() throws IOException {
        Path dpkgDeb = ExternalTool.require("dpkg-deb");
        Path root = tmp.resolve("root");
        ok(List.of(dpkgDeb.toString(), "-x", deb().toString(), root.toString()), tmp);
        List<Path> gz = new ArrayList<>();
        gz.add(root.resolve("usr/share/doc/piimage/changelog.gz"));
        for (String page : PAGES) {
            gz.add(root.resolve("usr/share/man/man1/" + page + ".1.gz"));
        }
        for (Path file : gz) {
            byte[] header = new byte[10];
            try (InputStream in = Files.newInputStream(file)) {
                assertThat(in.readNBytes(header, 0, 10)).isEqualTo(10);
            }
            assertThat(header[3] & 0x08).as(file + ": no file name (gzip -n)").isZero();
            assertThat(new byte[] {header[4], header[5], header[6], header[7]}).as(file + ": MTIME 0").containsOnly(0);
            assertThat(header[8]).as(file + ": maximum compression (gzip -9)").isEqualTo((byte) 2);
        }
    }

    private static String gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
