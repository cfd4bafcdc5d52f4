package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

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
                "/usr/local/lib/piimage/phases/10-prepare.sh", "/usr/local/lib/piimage/phases/20-install.sh",
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
}
