package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control planes' maintenance timers as baked: systemd-analyze on the units, shellcheck on their settings. */
class MaintenanceUnitsTest {

    @TempDir
    Path dir;

    static final List<String> UNITS = List.of("piimage-cert-renew.service", "piimage-cert-renew.timer",
            "piimage-etcd-snapshot.service", "piimage-etcd-snapshot.timer");

    @Test
    void theTimersAndServicesPassSystemdAnalyzeAndTheirSettingsShellcheck() throws Exception {
        Path analyze = ExternalTool.require("systemd-analyze");
        Path shellcheck = ExternalTool.require("shellcheck");
        BakedNodes baked = BakedNodes.bake(dir, "snap",
                EtcdSnapshotTest.PLAN + "  - {name: w1, role: worker, address: 10.78.0.21}\n");
        Path root = baked.layOut("cp1", Files.createDirectories(dir.resolve("root")));
        // systemd-analyze --root resolves the units' dependencies (timers.target, ...) in that root.
        Path target = Files.createDirectories(root.resolve("usr/lib/systemd/system"));
        try (var units = Files.list(Path.of("/lib/systemd/system"))) {
            for (Path unit : units.filter(p -> p.getFileName().toString().endsWith(".target")).toList()) {
                Files.copy(unit, target.resolve(unit.getFileName()));
            }
        }
        for (String unit : UNITS) {
            ProcessResult verify = ExternalTool.run(Duration.ofSeconds(60), List.of(analyze.toString(), "verify",
                    "--root=" + root, "/etc/systemd/system/" + unit), root);
            assertThat(verify.exitCode()).as(unit + ": " + verify.output()).isZero();
            assertThat(verify.output()).as(unit).isBlank();
        }
        for (String timer : List.of("piimage-cert-renew.timer", "piimage-etcd-snapshot.timer")) {
            assertThat(root.resolve("etc/systemd/system/" + timer)).content()
                    .contains("OnCalendar=daily", "RandomizedDelaySec=", "Persistent=true", "WantedBy=timers.target");
        }
        ProcessResult env = ExternalTool.run(Duration.ofSeconds(60), List.of(shellcheck.toString(), "--shell=bash",
                "--exclude=SC2034", root.resolve("etc/piimage/maintenance.env").toString()), root);
        assertThat(env.exitCode()).as(env.output()).isZero();
        // Workers get none of it (kubelet rotates their only certificate).
        assertThat(baked.files("cp1")).containsKeys("/usr/local/sbin/piimage-cert-renew", "/usr/local/sbin/piimage-etcd-snapshot");
        assertThat(baked.files("w1")).doesNotContainKeys("/usr/local/sbin/piimage-cert-renew", "/usr/local/sbin/piimage-etcd-snapshot",
                "/etc/piimage/maintenance.env");
    }
}
