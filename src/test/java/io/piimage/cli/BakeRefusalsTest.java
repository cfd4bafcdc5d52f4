package io.piimage.cli;

import static io.piimage.cli.CliTest.piimage;
import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliTest.Run;
import io.piimage.sink.Leftovers;
import io.piimage.sink.OutputLock;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile user's bakes: layouts that would lose the secrets, paths that do not exist or cannot be
 * read, a bake killed half-way, two bakes at once. Each is refused with one clear message, exit 1,
 * and nothing written; or, when something was written, the message says what.
 */
class BakeRefusalsTest {

    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static void assertClearError(Run run, String... parts) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
        assertThat(run.err()).contains(parts).doesNotContain("Exception").doesNotContain("internal error")
                .doesNotContain("\tat ");
    }

    @Test
    void secretsInsideTheOutputOrTheOutputInsideTheSecretsAreRefusedBeforeAnythingIsWritten() throws IOException {
        Path plan = Project.copyExample("makina.yaml", dir);
        Files.createDirectories(dir.resolve("real"));
        Files.createSymbolicLink(dir.resolve("link"), dir.resolve("real"));
        List<String> before = listing();
        record Layout(String secrets, String output, String says) {
        }
        for (Layout layout : List.of(
                new Layout("out/makina/secrets", "out/makina", "is inside the output"),
                new Layout("out/makina", "out/makina", "is the output"),
                new Layout("keys", "keys/cards", "is inside the secrets directory"),
                new Layout("keys", "keys/cards.tar.gz", "is inside the secrets directory"),
                // Through a symbolic link: link/ is real/.
                new Layout("link/out/secrets", "real/out", "is inside the output"),
                new Layout("real/keys", "link/keys/out", "is inside the secrets directory"))) {
            Run run = piimage("bake", plan.toString(), "--secrets", dir.resolve(layout.secrets()).toString(), "--init-secrets",
                    "-o", dir.resolve(layout.output()).toString());
            assertClearError(run, layout.says(), "nothing was written");
            assertThat(listing()).as(layout.toString()).isEqualTo(before);
        }
        // The overlap is named first, not the missing --init-secrets that would only lead to it.
        assertClearError(piimage("bake", plan.toString(), "--secrets", dir.resolve("out/secrets").toString(),
                "-o", dir.resolve("out").toString()), "is inside the output");
    }

    @Test
    void existingSecretsInsideAnEarlierOutputAreNeverDeleted() throws IOException {
        // The layout the old code accepted once, then lost the secrets on the next bake.
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        assertThat(piimage("bake", "-q", plan.toString(), "-o", out.toString()).exitCode()).isZero();
        Files.move(dir.resolve("makina.secrets"), out.resolve("secrets"));
        Run run = piimage("bake", plan.toString(), "--secrets", out.resolve("secrets").toString(), "-o", out.toString());
        assertClearError(run, "is inside the output", "would delete the cluster's secrets");
        assertThat(out.resolve("secrets/ca.key")).isRegularFile();
    }

    @Test
    void theRootDirectoryAsOutputIsAClearError() {
        Path plan = Project.copyExample("makina.yaml", dir);
        Run run = piimage("bake", plan.toString(), "-o", "/");
        assertClearError(run, "the output cannot be /", "nothing was written");
        assertThat(dir.resolve("makina.secrets")).doesNotExist();
    }

    @Test
    void aRefusedOutputCreatesNoSecrets() throws IOException {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path home = Files.createDirectory(dir.resolve("home"));
        Files.writeString(home.resolve("precious"), "x");
        Run run = piimage("bake", plan.toString(), "-o", home.toString());
        assertClearError(run, "not an earlier piimage output", "nothing was written");
        assertThat(dir.resolve("makina.secrets")).doesNotExist();
        assertThat(listing()).containsExactly("", "home", "home/precious", "makina.yaml");
    }

    @Test
    void aFullDiskStopsTheBakeBeforeTheSecretsAreSaved() throws Exception {
        ExternalTool.requireRoot("mounting a small tmpfs as a full disk");
        Path small = Files.createDirectory(dir.resolve("small"));
        // Room for the secrets (about 70 KiB in 4 KiB pages), not for the cards: the bake must find out first.
        var mount = ExternalTool.run(Duration.ofSeconds(30), List.of("mount", "-t", "tmpfs", "-o", "size=96k,mode=0755",
                "piimage-full", small.toString()), null);
        assertThat(mount.exitCode()).as(mount.output()).isZero();
        try {
            Path plan = Project.copyExample("makina.yaml", small);
            Run run = piimage("bake", plan.toString(), "-o", small.resolve("out").toString());
            assertClearError(run, "No space left on device", "nothing was written");
            try (Stream<Path> list = Files.list(small)) {
                assertThat(list.toList()).containsExactly(plan);
            }
        } finally {
            ExternalTool.run(Duration.ofSeconds(30), List.of("umount", small.toString()), null);
        }
    }

    @Test
    void anExplicitSecretsDirectoryThatDoesNotExistIsCreatedOnlyWhenAskedFor() throws IOException {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path typo = dir.resolve("makina.secerts");
        Run refused = piimage("bake", "-q", plan.toString(), "--secrets", typo.toString(), "-o", dir.resolve("out").toString());
        assertClearError(refused, typo + " does not exist", "--init-secrets", "nothing was written");
        Files.createDirectory(typo);
        refused = piimage("bake", "-q", plan.toString(), "--secrets", typo.toString(), "-o", dir.resolve("out").toString());
        assertClearError(refused, typo + " is empty", "--init-secrets");
        assertThat(listing()).containsExactly("", "makina.secerts", "makina.yaml");

        Run created = piimage("bake", "-q", plan.toString(), "--secrets", typo.toString(), "--init-secrets",
                "-o", dir.resolve("out").toString());
        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).isEmpty();
        assertThat(created.err()).contains("created the cluster's secrets (a new CA) in " + typo);
        // Later bakes need no flag, and say nothing about secrets under -q.
        Run again = piimage("bake", "-q", plan.toString(), "--secrets", typo.toString(), "-o", dir.resolve("out").toString());
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err()).isEmpty();
    }

    @Test
    void theDefaultSecretsDirectoryIsCreatedWithoutAFlagAndSaidEvenWhenQuiet() {
        Path plan = Project.copyExample("makina.yaml", dir);
        Run run = piimage("bake", "-q", plan.toString(), "-o", dir.resolve("out").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("created the cluster's secrets (a new CA) in " + dir.resolve("makina.secrets"));
        assertThat(run.out()).isEmpty();
    }

    @Test
    void aSymlinkedSecretsDirectoryGivesNoPermissionWarning() throws IOException {
        Path plan = Project.copyExample("makina.yaml", dir);
        assertThat(piimage("bake", "-q", plan.toString(), "-o", dir.resolve("out").toString()).exitCode()).isZero();
        Path real = Files.createDirectories(dir.resolve("safe")).resolve("makina.secrets");
        Files.move(dir.resolve("makina.secrets"), real);
        Files.createSymbolicLink(dir.resolve("makina.secrets"), real);
        Run run = piimage("bake", plan.toString(), "-o", dir.resolve("out").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).doesNotContain("warning");
        // A real problem behind the link is still reported.
        Files.setPosixFilePermissions(real.resolve("ca.key"), PosixFilePermissions.fromString("rw-r--r--"));
        run = piimage("bake", plan.toString(), "-o", dir.resolve("out").toString());
        assertThat(run.err()).contains("warning").contains("ca.key is accessible to other users");
    }

    /** The tag of a process that ran and was killed: its id names no process now (or one started later). */
    private static String deadProcessTag() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        String tag = Leftovers.tag(p.toHandle()); // while it lives, so its start time is known
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertThat(tag).matches(".*\\.\\d+\\.[1-9]\\d*");
        return tag;
    }

    @Test
    void leftoversOfAKilledBakeAreRemovedByTheNextOneAndALiveBakesAreKept() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        assertThat(piimage("bake", "-q", plan.toString(), "-o", out.toString()).exitCode()).isZero();

        String deadTag = deadProcessTag();
        Process liveProcess = new ProcessBuilder("sleep", "120").start();
        try {
            String liveTag = Leftovers.tag(liveProcess.toHandle());
            Map<Path, Boolean> leftovers = new TreeMap<>();
            Path staging = Files.createDirectories(dir.resolve(".out.tmp-" + deadTag + "-0a1b2c3d4e5f/master1"));
            Files.writeString(staging.getParent().resolve("admin.conf"), "client-key-data: secret\n");
            Files.writeString(staging.resolve("user-data"), "ca.key\n");
            leftovers.put(staging.getParent(), false);
            leftovers.put(Files.createDirectory(dir.resolve(".out.old-" + deadTag + "-0a1b2c3d4e5f")), false);
            leftovers.put(Files.writeString(dir.resolve(".piimage-base-" + deadTag + "-0a1b2c3d4e5f123.img"), "base"), false);
            leftovers.put(Files.createDirectory(dir.resolve(".piimage-images-" + deadTag + "-0a1b2c3d4e5f456")), false);
            Path secretsStaging = Files.createDirectory(dir.resolve(".makina.secrets.tmp-" + deadTag + "-0a1b2c3d4e5f"));
            Files.writeString(secretsStaging.resolve("ca.key"), "-----BEGIN PRIVATE KEY-----\n");
            leftovers.put(secretsStaging, false);
            // A live bake's temporary files, an older piimage's unnamed one, another host's: kept.
            leftovers.put(Files.createDirectory(dir.resolve(".out.tmp-" + liveTag + "-0a1b2c3d4e5f")), true);
            leftovers.put(Files.writeString(dir.resolve(".piimage-base-" + liveTag + "-77.img"), "base"), true);
            leftovers.put(Files.createDirectory(dir.resolve(".out.tmp-a1b2c3d4e5f6")), true);
            leftovers.put(Files.createDirectory(dir.resolve(".out.tmp-" + deadTag.replaceFirst("^[^.]+", "otherhost")
                    + "-0a1b2c3d4e5f")), true);

            Run run = piimage("bake", "-q", plan.toString(), "-o", out.toString());
            assertThat(run.exitCode()).as(run.err()).isZero();
            List<String> removedLines = new ArrayList<>();
            leftovers.forEach((path, kept) -> {
                assertThat(Files.exists(path)).as(path.toString()).isEqualTo(kept);
                if (!kept) {
                    removedLines.add("removed " + path + ", left by an interrupted bake");
                }
            });
            assertThat(run.err()).contains(removedLines)
                    .contains("warning: " + dir.resolve(".out.tmp-a1b2c3d4e5f6") + " looks like a temporary file")
                    .doesNotContain(liveTag);
        } finally {
            liveProcess.destroyForcibly();
        }
    }

    @Test
    void aTemporaryDirectoryOfABakeIsPrivate() throws Exception {
        Path target = dir.resolve("out");
        // The staging directory holds admin.conf and CA keys until it is renamed into place.
        try (var staged = io.piimage.sink.Sink.forPath(target).stage(io.piimage.render.FileTree.builder()
                .add(io.piimage.render.NodeFile.text("admin.conf", "x", 0600)).build())) {
            List<Path> temps;
            try (Stream<Path> list = Files.list(dir)) {
                temps = list.filter(p -> p.getFileName().toString().startsWith(".out.tmp-")).toList();
            }
            assertThat(temps).hasSize(1);
            assertThat(temps.get(0).getFileName().toString()).startsWith(".out.tmp-" + Leftovers.tag(ProcessHandle.current()) + "-");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(temps.get(0)))).isEqualTo("rwx------");
        }
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.toList()).isEmpty();
        }
    }

    @Test
    void theLosingBakeOfAConcurrentPairSaysAnotherBakeIsWriting() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        assertThat(piimage("bake", "-q", plan.toString(), "-o", out.toString()).exitCode()).isZero();
        Path python = ExternalTool.require("python3");
        // Another process holds the output's lock, as a bake in progress does (POSIX record lock, as the JVM's).
        Path lock = OutputLock.lockFile(out);
        Process holder = new ProcessBuilder(python.toString(), "-c", """
                import fcntl, os, sys, time
                f = open(sys.argv[1], "a+")
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                f.truncate(0); f.write("pi.%d.1767225600-0a1b2c3d4e5f\\n" % os.getpid()); f.flush()
                print("locked", flush=True)
                time.sleep(60)
                """, lock.toString()).redirectErrorStream(true).start();
        try {
            assertThat(new String(holder.getInputStream().readNBytes(7))).isEqualTo("locked\n");
            Run run = piimage("bake", plan.toString(), "-o", out.toString());
            assertClearError(run, "another bake (process " + holder.pid() + " on pi) is writing " + out,
                    "nothing was written");
            assertThat(run.err()).doesNotContain("Directory not empty");
        } finally {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        // The holder is gone, and with it the lock: the next bake runs, and removes the lock file after itself.
        Run run = piimage("bake", "-q", plan.toString(), "-o", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(lock).doesNotExist();
    }

    @Test
    void unreadableSecretsAreAClearErrorNotAStackTrace() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        assertThat(piimage("bake", "-q", plan.toString(), "-o", out.toString()).exitCode()).isZero();
        ExternalTool.requireRoot("running the bake as another user (nobody), whom the secrets directory refuses");
        // The bake runs as nobody in a directory nobody may use, with the secrets still root's (0700).
        Path work = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "piimage-nobody-" + ProcessHandle.current().pid()));
        try {
            Path cp = Files.createDirectories(work.resolve("cp"));
            List<String> classpath = new ArrayList<>();
            int i = 0;
            for (String entry : System.getProperty("java.class.path").split(":")) {
                Path source = Path.of(entry);
                Path copy = cp.resolve(i++ + "-" + source.getFileName());
                if (Files.isDirectory(source)) {
                    ExternalTool.run(Duration.ofSeconds(60), List.of("cp", "-r", source.toString(), copy.toString()), null);
                } else if (Files.isRegularFile(source)) {
                    Files.copy(source, copy);
                }
                classpath.add(copy.toString());
            }
            Path project = Files.createDirectories(work.resolve("project"));
            Files.copy(plan, project.resolve("makina.yaml"));
            ExternalTool.run(Duration.ofSeconds(60), List.of("cp", "-a", dir.resolve("makina.secrets").toString(),
                    project.resolve("makina.secrets").toString()), null);
            ExternalTool.run(Duration.ofSeconds(60), List.of("chmod", "-R", "a+rX", cp.toString()), null);
            ExternalTool.run(Duration.ofSeconds(60), List.of("chmod", "a+rx", work.toString()), null);
            ExternalTool.run(Duration.ofSeconds(60), List.of("chown", "nobody", project.toString()), null);
            ExternalTool.run(Duration.ofSeconds(60), List.of("chmod", "a+r", project.resolve("makina.yaml").toString()), null);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            var result = ExternalTool.run(Duration.ofSeconds(120), List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
                    "--clear-groups", java, "-cp", String.join(":", classpath), "io.piimage.cli.Main", "bake",
                    project.resolve("makina.yaml").toString(), "-o", project.resolve("out").toString()), project);
            assertThat(result.exitCode()).as(result.output()).isEqualTo(1);
            assertThat(result.stderr()).contains(project.resolve("makina.secrets").toString()).contains("permission denied")
                    .contains("nothing was written").doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(project.resolve("out")).doesNotExist();
        } finally {
            ExternalTool.run(Duration.ofSeconds(60), List.of("rm", "-rf", work.toString()), null);
        }
    }
}
