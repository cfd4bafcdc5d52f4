package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.PackageMirror;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the rehearsal: a load balancer lost power while apt unpacked HAProxy, and on the next boot
 * every install failed for the whole half hour of retries ("The package haproxy needs to be
 * reinstalled, but I can't find an archive for it"). Its package list was an empty file (ext4 had not
 * written its data yet) beside an intact Release file, and apt-get update keeps such a list because
 * the Release file did not change. Here with the real apt-get against a signed mirror of Debian's .debs:
 * first that apt itself does not recover, then that phase 15-packages (the rendered runner; stand-ins
 * only for dpkg-query and timedatectl, named so) gets its install through by downloading the lists
 * again. apt runs with a private state and downloads only: nothing is installed on this machine.
 */
class AptListsLostInAPowerCutRealAptTest {

    @TempDir
    Path dir;

    @Test
    void anEmptiedPackageListThatAptKeepsIsDownloadedAgainAndTheInstallGoesThrough() throws Exception {
        ExternalTool.requireRoot("apt-get with a private state");
        ExternalTool.require("apt-get");
        ExternalTool.require("bash");
        Path bin = BakedNodes.standIns(dir);
        // The real apt-get; dpkg-query, timedatectl and the rest stay stand-ins.
        for (String tool : List.of("apt-get", "apt-cache", "apt-mark")) {
            Files.delete(bin.resolve(tool));
        }
        BakedNodes baked = BakedNodes.bake(dir, "pk-plan", Files.readString(Project.example("makina.yaml")));
        Path root = baked.layOut("lb1", Files.createDirectories(dir.resolve("root")));
        PreparePhasesTest.onlyUpTo(root, "15-packages");
        Files.writeString(root.resolve("var/lib/piimage/phases/05-interfaces.done"), "");
        // One small package stands for the role's: what is under test is apt's state, not the list.
        Files.writeString(root.resolve("etc/piimage/packages"), "jq\n");

        Path base = Files.createDirectories(dir.resolve("base/var/lib/dpkg"));
        Files.writeString(base.resolve("status"), "");
        try (PackageMirror mirror = PackageMirror.build(Files.createDirectories(dir.resolve("mirror")), "trixie",
                dir.resolve("base"), List.of("jq"))) {
            int port = mirror.serve();
            Path aptConfig = privateApt(root, mirror.publicKey(), port);
            String[] env = {"APT_CONFIG=" + aptConfig};

            ProcessResult update = run(env, "apt-get", "-q", "update");
            assertThat(update.exitCode()).as(update.output()).isZero();
            Path lists = root.resolve("var/lib/apt/lists");
            Path packages;
            try (Stream<Path> files = Files.list(lists)) {
                packages = files.filter(p -> p.getFileName().toString().endsWith("_Packages")).findFirst().orElseThrow();
            }
            // What the power cut left: the list emptied, the Release file intact.
            Files.write(packages, new byte[0]);

            // apt alone: update keeps the empty list, and the install can never succeed.
            ProcessResult again = run(env, "apt-get", "-q", "update");
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(packages).isEmptyFile();
            ProcessResult stuck = run(env, "apt-get", "-q", "install", "-y", "jq");
            assertThat(stuck.exitCode()).as(stuck.output()).isNotZero();
            assertThat(stuck.output()).contains("Unable to locate package jq");

            // The phase: the failed install makes the next attempt download the lists again.
            List<String> phase = new ArrayList<>(List.of(env));
            phase.add("PIIMAGE_APT_WAIT=30");
            ProcessResult result = PackagesPhaseStandInTest.runFast(bin, root, phase.toArray(String[]::new));
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.stderr()).contains("package lists may be damaged (a power cut?): downloading them again",
                    "packages: installed jq");
            assertThat(packages).isNotEmptyFile();
            try (Stream<Path> debs = Files.list(root.resolve("var/cache/apt/archives"))) {
                assertThat(debs.map(p -> p.getFileName().toString())).anyMatch(d -> d.startsWith("jq_"));
            }
        }
    }

    private ProcessResult run(String[] env, String... command) {
        List<String> c = new ArrayList<>(List.of("env"));
        c.addAll(List.of(env));
        c.addAll(List.of(command));
        return ExternalTool.run(Duration.ofMinutes(5), c, dir);
    }

    /**
     * An apt configuration (APT_CONFIG) whose state lives under the node's scratch root, where the phase
     * looks for the lists; it only downloads, so its installs touch nothing on this machine.
     */
    private Path privateApt(Path root, String mirrorKey, int port) throws Exception {
        Path etc = Files.createDirectories(dir.resolve("apt-etc"));
        for (String d : List.of("parts", "prefs", "conf.d")) {
            Files.createDirectories(etc.resolve(d));
        }
        for (String d : List.of("var/lib/apt/lists/partial", "var/cache/apt/archives/partial")) {
            Files.createDirectories(root.resolve(d));
        }
        Path status = Files.writeString(etc.resolve("status"), "");
        Path key = Files.writeString(etc.resolve("mirror-key.asc"), mirrorKey);
        Path sources = Files.writeString(etc.resolve("sources.list"),
                "deb [signed-by=" + key + "] http://127.0.0.1:" + port + "/debian trixie main\n");
        String config = String.join("\n",
                "Dir::Etc::SourceList \"" + sources + "\";",
                "Dir::Etc::SourceParts \"" + etc.resolve("parts") + "\";",
                "Dir::Etc::PreferencesParts \"" + etc.resolve("prefs") + "\";",
                // None of this machine's apt.conf.d (compressed lists, hooks): apt as a card has it.
                "Dir::Etc::Parts \"" + etc.resolve("conf.d") + "\";",
                "Dir::State::Lists \"" + root.resolve("var/lib/apt/lists") + "\";",
                "Dir::State::Status \"" + status + "\";",
                "Dir::Cache::Archives \"" + root.resolve("var/cache/apt/archives") + "\";",
                "Dir::Cache::pkgcache \"\";",
                "Dir::Cache::srcpkgcache \"\";",
                "Debug::NoLocking \"1\";",
                "APT::Architecture \"amd64\";",
                "APT::Architectures \"amd64\";",
                "Acquire::Languages \"none\";",
                "APT::Sandbox::User \"root\";",
                "APT::Get::Download-Only \"true\";",
                "");
        return Files.writeString(etc.resolve("apt.conf"), config);
    }
}
