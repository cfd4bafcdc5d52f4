package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.DebianPackages;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real tools on what the nodes get: shellcheck on every rendered script, systemd-analyze on the units. */
class RenderedScriptsTest {

    @TempDir
    Path dir;

    BakedNodes bakeBoth() throws Exception {
        String plan = Files.readString(Project.example("makina.yaml"));
        return BakedNodes.bake(dir, "makina-scripts", plan);
    }

    @Test
    void everyRenderedScriptOfEveryRolePassesShellcheck() throws Exception {
        Path shellcheck = ExternalTool.require("shellcheck");
        BakedNodes baked = bakeBoth();
        Set<String> checked = new TreeSet<>();
        for (var node : baked.result.plan().nodes()) {
            Path root = baked.layOut(node.name(), Files.createDirectories(dir.resolve("roots").resolve(node.name())));
            List<String> command = new ArrayList<>(List.of(shellcheck.toString(), "--shell=bash", "--severity=style"));
            for (String script : baked.scripts(node.name())) {
                command.add(root.resolve(script.substring(1)).toString());
                checked.add(script);
            }
            ProcessResult result = ExternalTool.run(Duration.ofSeconds(120), command, root);
            assertThat(result.exitCode()).as(node.name() + ":\n" + result.output()).isZero();
        }
        assertThat(checked).contains("/usr/local/sbin/piimage-firstboot", "/usr/local/sbin/piimage-status",
                "/usr/local/lib/piimage/phases/10-prepare.sh", "/usr/local/lib/piimage/phases/15-packages.sh",
                "/usr/local/lib/piimage/phases/20-install.sh",
                "/usr/local/lib/piimage/phases/50-cluster.sh", "/usr/local/lib/piimage/phases/90-finish.sh",
                "/usr/local/lib/piimage/cluster.sh", "/usr/local/lib/piimage/join-lock.sh", "/usr/local/sbin/piimage-join-watch");
        // The env files the phases source are bash too.
        Path root = dir.resolve("roots/master1");
        ProcessResult env = ExternalTool.run(Duration.ofSeconds(60), List.of(shellcheck.toString(), "--shell=bash",
                "--exclude=SC2034", root.resolve("etc/piimage/kubernetes.env").toString(),
                root.resolve("etc/piimage/node.env").toString()), root);
        assertThat(env.exitCode()).as(env.output()).isZero();
    }

    @Test
    void theUnitsPassSystemdAnalyzeVerify() throws Exception {
        Path analyze = ExternalTool.require("systemd-analyze");
        BakedNodes baked = bakeBoth();
        Path root = baked.layOut("master1", Files.createDirectories(dir.resolve("root")));
        // systemd-analyze --root resolves the units' dependencies (multi-user.target, ...) in that root.
        Path systemUnits = Path.of("/lib/systemd/system");
        Path target = Files.createDirectories(root.resolve("usr/lib/systemd/system"));
        try (var units = Files.list(systemUnits)) {
            for (Path unit : units.filter(p -> p.getFileName().toString().endsWith(".target")).toList()) {
                Files.copy(unit, target.resolve(unit.getFileName()));
            }
        }
        for (String unit : List.of("piimage-firstboot.service", "piimage-join-watch.service", "piimage-join-watch.timer")) {
            ProcessResult verify = ExternalTool.run(Duration.ofSeconds(60), List.of(analyze.toString(), "verify",
                    "--root=" + root, "/etc/systemd/system/" + unit), root);
            assertThat(verify.exitCode()).as(unit + ": " + verify.output()).isZero();
            assertThat(verify.output()).as(unit).isBlank();
        }
    }

    /**
     * The first-boot unit among the real units of a Debian suite's cloud-init package, enabled as they
     * are on a card (cloud-init-generator links cloud-init.target into multi-user.target.wants, the
     * package enables its services in cloud-init.target.wants): systemd must find no ordering cycle,
     * or it deletes the unit's start job on every boot (cloud-final.service is After=multi-user.target).
     */
    @ParameterizedTest
    @ValueSource(strings = {"trixie", "bookworm"})
    void theFirstBootUnitHasNoOrderingCycleWithCloudInitsOwnUnits(String suite) throws Exception {
        Path analyze = ExternalTool.require("systemd-analyze");
        Path extracted = DebianPackages.extract(suite, "cloud-init");
        // trixie installs units in /usr/lib, bookworm still in /lib.
        Path cloudInit = extracted.resolve("usr/lib/systemd/system");
        if (!Files.isDirectory(cloudInit)) {
            cloudInit = extracted.resolve("lib/systemd/system");
        }
        BakedNodes baked = bakeBoth();
        Path root = baked.layOut("master1", Files.createDirectories(dir.resolve("root")));
        Path lib = Files.createDirectories(root.resolve("usr/lib/systemd/system"));
        Path etc = root.resolve("etc/systemd/system");
        try (var units = Files.list(Path.of("/lib/systemd/system"))) {
            for (Path unit : units.filter(p -> p.getFileName().toString().endsWith(".target")
                    && !p.getFileName().toString().startsWith("cloud-")).toList()) {
                Files.copy(unit, lib.resolve(unit.getFileName()));
            }
        }
        List<String> cloudUnits = new ArrayList<>();
        try (var units = Files.list(cloudInit)) {
            for (Path unit : units.filter(Files::isRegularFile).toList()) {
                Path copy = lib.resolve(unit.getFileName());
                Files.copy(unit, copy);
                if (Files.readString(copy).contains("WantedBy=cloud-init.target")) {
                    cloudUnits.add(unit.getFileName().toString());
                    link(etc.resolve("cloud-init.target.wants"), "/usr/lib/systemd/system/" + unit.getFileName());
                }
            }
        }
        assertThat(cloudUnits).contains("cloud-config.service", "cloud-final.service");
        assertThat(Files.readString(lib.resolve("cloud-final.service"))).contains("After=multi-user.target");
        link(etc.resolve("multi-user.target.wants"), "/usr/lib/systemd/system/cloud-init.target");
        // What `systemctl enable` does with the unit's [Install] section.
        assertThat(Files.readString(etc.resolve("piimage-firstboot.service"))).contains("WantedBy=multi-user.target");
        link(etc.resolve("multi-user.target.wants"), "/etc/systemd/system/piimage-firstboot.service");

        ProcessResult verify = ExternalTool.run(Duration.ofSeconds(120), List.of(analyze.toString(), "verify",
                "--root=" + root, "/etc/systemd/system/piimage-firstboot.service"), root);
        assertThat(verify.output()).as(suite).doesNotContain("ordering cycle").doesNotContain("deleted to break");
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        // After cloud-config.service: write_files (init stage) and NTP/time zone (config stage) are done.
        assertThat(Files.readString(etc.resolve("piimage-firstboot.service"))).containsPattern("(?m)^After=.*cloud-config\\.service");
    }

    private static void link(Path wants, String target) throws java.io.IOException {
        Files.createDirectories(wants);
        Path name = Path.of(target).getFileName();
        Files.createSymbolicLink(wants.resolve(name), Path.of(target));
    }
}
