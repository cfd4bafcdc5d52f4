package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-node phase runner (overlays/common/usr/local/sbin/piimage-firstboot), executed for real by
 * bash inside a scratch root (PIIMAGE_ROOT) with small phases of the test's own.
 */
class FirstBootRunnerTest {

    @TempDir
    Path root;

    Path log;

    @BeforeEach
    void layOutANode() throws IOException {
        Path common = Project.root().resolve("overlays/common");
        for (String script : List.of("piimage-firstboot", "piimage-status")) {
            Path target = root.resolve("usr/local/sbin").resolve(script);
            Files.createDirectories(target.getParent());
            Files.copy(common.resolve("usr/local/sbin").resolve(script), target);
        }
        Files.createDirectories(root.resolve("etc/piimage"));
        Files.writeString(root.resolve("etc/piimage/node.env"),
                "PIIMAGE_NODE=lb1\nPIIMAGE_ROLE=load-balancer\nPIIMAGE_BOOT_MOUNT=/boot/firmware\n"
                        // No back-off wait in these tests (the real default is 15 s, doubling up to 300 s).
                        + "PIIMAGE_RETRY_BASE=0\n");
        Files.createDirectories(root.resolve("boot/firmware"));
        Files.createDirectories(root.resolve("usr/local/lib/piimage/phases"));
        log = root.resolve("calls.log");
        phase("10-prepare", "echo prepare >> \"$ROOT/calls.log\"");
        phase("20-install", "echo install >> \"$ROOT/calls.log\"; if [[ -e \"$ROOT/fail-install\" ]]; then false; fi");
        phase("50-role", "echo role >> \"$ROOT/calls.log\"");
    }

    void phase(String name, String body) throws IOException {
        String function = "phase_" + name.substring(3);
        Files.writeString(root.resolve("usr/local/lib/piimage/phases").resolve(name + ".sh"),
                "# shellcheck shell=bash\n" + function + "() {\n  " + body + "\n}\n");
    }

    ProcessResult run(String script) {
        Path bash = ExternalTool.require("bash");
        return ExternalTool.run(Duration.ofSeconds(30), List.of("env", "PIIMAGE_ROOT=" + root, bash.toString(),
                root.resolve("usr/local/sbin").resolve(script).toString()), root);
    }

    @Test
    void cloudInitsFilesAndWhatEachPhaseWroteAreSyncedBeforeTheyAreRecorded() throws IOException {
        // A sync that records which phases were already marked done when it ran, or which file's file
        // system it flushed (sync -f FILE: the status copy on the boot partition).
        Path bin = Files.createDirectories(root.resolve("stand-in-bin"));
        Path sync = Files.writeString(bin.resolve("sync"), "#!/bin/bash\n"
                + "if [[ $1 == -f ]]; then echo \"flushed $(basename \"$2\")\" >> \"$PIIMAGE_ROOT/calls.log\"; exit 0; fi\n"
                + "echo \"sync after: $(cd \"$PIIMAGE_ROOT/var/lib/piimage/phases\" && ls | tr '\\n' ' ')\" >> \"$PIIMAGE_ROOT/calls.log\"\n");
        assertThat(sync.toFile().setExecutable(true)).isTrue();
        ProcessResult first = ExternalTool.run(Duration.ofSeconds(30), List.of("env", "PATH=" + bin + ":" + System.getenv("PATH"),
                "PIIMAGE_ROOT=" + root, ExternalTool.require("bash").toString(),
                root.resolve("usr/local/sbin/piimage-firstboot").toString()), root);
        assertThat(first.exitCode()).as(first.output()).isZero();
        // First cloud-init's files (recorded, for the user-data's bootcmd), then each phase's.
        List<String> calls = Files.readAllLines(log);
        assertThat(calls.stream().filter(c -> !c.startsWith("flushed ")).toList()).containsExactly("sync after: ", "prepare",
                "sync after: ", "install", "sync after: 10-prepare.done ", "role", "sync after: 10-prepare.done 20-install.done ");
        // Every status copy on the boot partition is flushed at once, the last (done) included: a Pi
        // unplugged right after it said done must not leave a half-written FAT.
        assertThat(calls).contains("flushed piimage-status.txt").last().isEqualTo("flushed piimage-status.txt");
        assertThat(root.resolve("var/lib/piimage/seed-on-card")).exists();
        assertThat(first.stderr()).contains("cloud-init's files are on the card");
    }

    @Test
    void runsEveryPhaseInOrderThenNothingOnASecondRun() throws IOException {
        ProcessResult first = run("piimage-firstboot");
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(Files.readAllLines(log)).containsExactly("prepare", "install", "role");
        assertThat(first.stderr()).contains("phase 10-prepare: starting", "phase 50-role: done", "all phases done");
        assertThat(Files.readString(root.resolve("boot/firmware/piimage-status.txt")))
                .contains("node=lb1", "phase=finished", "state=done");

        ProcessResult second = run("piimage-firstboot");
        assertThat(second.exitCode()).isZero();
        assertThat(second.stderr()).contains("already assembled; nothing to do");
        assertThat(Files.readAllLines(log)).hasSize(3);

        ProcessResult status = run("piimage-status");
        assertThat(status.exitCode()).isZero();
        assertThat(status.stdout()).contains("state:      done", "phases done: 10-prepare 20-install 50-role");
    }

    @Test
    void aFailedPhaseIsReportedAndTheNextRunResumesThere() throws IOException {
        Files.createFile(root.resolve("fail-install"));
        ProcessResult failed = run("piimage-firstboot");
        assertThat(failed.exitCode()).isNotZero();
        assertThat(failed.stderr()).contains("phase 20-install failed");
        assertThat(Files.readAllLines(log)).containsExactly("prepare", "install");
        String status = Files.readString(root.resolve("boot/firmware/piimage-status.txt"));
        assertThat(status).contains("phase=20-install", "state=failed", "failures=1", "last_error=exit 1 at line 3 (phase 20-install)")
                .containsPattern("next_retry=\\d{4}-");
        ProcessResult statusCommand = run("piimage-status");
        assertThat(statusCommand.exitCode()).isEqualTo(1);
        assertThat(statusCommand.stdout()).contains("state:      failed", "last error: exit 1 at line 3 (phase 20-install)",
                "next retry: 20", "phases done: 10-prepare");

        Files.delete(root.resolve("fail-install"));
        ProcessResult resumed = run("piimage-firstboot");
        assertThat(resumed.exitCode()).as(resumed.output()).isZero();
        assertThat(resumed.stderr()).contains("phase 10-prepare: done earlier, skipped");
        assertThat(Files.readAllLines(log)).containsExactly("prepare", "install", "install", "role");
    }

    @Test
    void aPhasesOwnErrorMessageIsReportedAndExitHooksRunOnFailure() throws IOException {
        phase("20-install", "at_exit 'echo released >> \"$ROOT/calls.log\"'; false || fail \"apt-get install kubeadm failed\"");
        ProcessResult failed = run("piimage-firstboot");
        assertThat(failed.exitCode()).isNotZero();
        assertThat(failed.stderr()).contains("error: apt-get install kubeadm failed", "attempt 1");
        assertThat(Files.readAllLines(log)).containsExactly("prepare", "released");
        assertThat(Files.readString(root.resolve("var/lib/piimage/state")))
                .contains("last_error=apt-get install kubeadm failed (phase 20-install)");
        ProcessResult again = run("piimage-firstboot");
        assertThat(again.stderr()).contains("attempt 2");
    }

    @Test
    void statusBeforeFirstBootSaysSo() {
        ProcessResult status = run("piimage-status");
        assertThat(status.exitCode()).isEqualTo(3);
        assertThat(status.stdout()).contains("has not started yet");
    }

    @Test
    void theScriptsPassShellcheck() {
        Path shellcheck = ExternalTool.require("shellcheck");
        Path sbin = Project.root().resolve("overlays/common/usr/local/sbin");
        ProcessResult check = ExternalTool.run(Duration.ofSeconds(60), List.of(shellcheck.toString(), "-s", "bash",
                sbin.resolve("piimage-firstboot").toString(), sbin.resolve("piimage-status").toString()), root);
        assertThat(check.exitCode()).as(check.output()).isZero();
    }
}
