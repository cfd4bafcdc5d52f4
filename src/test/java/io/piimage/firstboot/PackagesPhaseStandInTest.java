package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Phase 15-packages, rendered and run by the rendered runner in a scratch root, with the recording
 * stand-ins for apt-get and timedatectl (no Debian mirror, no NTP here): every role installs its
 * packages there, after the clock, with retries and the dpkg lock timeout, and none through
 * cloud-init's one-shot package step.
 */
class PackagesPhaseStandInTest {

    /** How the phase installs: waiting for the dpkg lock, keeping the configuration files the card wrote. */
    static final String INSTALL = "apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef"
            + " -o Dpkg::Options::=--force-confold install -y ";

    @TempDir
    Path dir;

    Path bin;

    @BeforeEach
    void tools() {
        ExternalTool.require("bash");
        bin = BakedNodes.standIns(dir);
    }

    Path node(String example, String node) throws IOException {
        BakedNodes baked = BakedNodes.bake(dir, "pk-plan", Files.readString(Project.example(example)));
        Path root = baked.layOut(node, Files.createDirectories(dir.resolve("root")));
        PreparePhasesTest.onlyUpTo(root, "15-packages");
        // A Kubernetes node's earlier phase is not under test here.
        Path prepare = root.resolve("usr/local/lib/piimage/phases/10-prepare.sh");
        if (Files.exists(prepare)) {
            Files.writeString(root.resolve("var/lib/piimage/phases/10-prepare.done"), "");
        }
        return root;
    }

    ProcessResult run(Path root, String... env) {
        return runFast(bin, root, env);
    }

    /** The rendered runner in {@code root}, stand-ins first on PATH, with short polls and no back-off. */
    static ProcessResult runFast(Path bin, Path root, String... env) {
        List<String> command = new ArrayList<>(List.of("env", "PATH=" + bin + ":" + System.getenv("PATH"),
                "PIIMAGE_ROOT=" + root, "PIIMAGE_POLL=0.1", "PIIMAGE_RETRY_BASE=0"));
        command.addAll(List.of(env));
        command.addAll(List.of("bash", root.resolve("usr/local/sbin/piimage-firstboot").toString()));
        return ExternalTool.run(Duration.ofSeconds(60), command, root);
    }

    static List<String> aptCalls(Path root) throws IOException {
        return PreparePhasesTest.calls(root).lines().filter(l -> l.startsWith("apt-get ")).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"makina.yaml", "nkte8.yaml"})
    void everyRoleListsItsPackagesForThePhaseAndNoneForCloudInitsPackageStep(String example) throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "pk-" + example.replace(".yaml", ""), Files.readString(Project.example(example)));
        for (var node : baked.result.plan().nodes()) {
            Map<String, Object> config = baked.cloudConfig(node.name());
            assertThat(config).as(node.name()).doesNotContainKeys("packages", "package_update", "package_upgrade");
            assertThat(baked.files(node.name())).as(node.name()).containsKey("/usr/local/lib/piimage/phases/15-packages.sh");
            List<String> packages = baked.packages(node.name());
            switch (node.role()) {
                case GATEWAY -> assertThat(packages).contains("nftables", "dnsmasq");
                case LOAD_BALANCER -> assertThat(packages).contains("keepalived", "haproxy");
                default -> assertThat(packages).contains("containerd", "conntrack", "socat");
            }
        }
    }

    @Test
    void aptFailingThreeTimesIsRetriedAndTheLoadBalancerGetsItsPackages() throws Exception {
        // A load balancer of the plan with a gateway: the gateway may not route or answer DNS yet.
        Path root = node("makina.yaml", "lb1");
        BakedNodes.write(root, "stand-in/apt-get-failures", "3\n");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(root.resolve("var/lib/piimage/phases/15-packages.done")).exists();
        List<String> apt = aptCalls(root);
        assertThat(apt).filteredOn(l -> l.contains(" update")).hasSize(4);
        assertThat(apt).filteredOn(l -> l.contains(" install ")).containsExactly(
                INSTALL + "keepalived curl haproxy");
        assertThat(result.stderr()).contains("apt-get install keepalived curl haproxy: ok after",
                "packages: installed keepalived curl haproxy");
    }

    @Test
    void aClockAt1970IsWaitedForBeforeApt() throws Exception {
        Path root = node("makina.yaml", "gw");
        BakedNodes.write(root, "stand-in/ntp-unsynchronised-calls", "3\n");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("the clock to be synchronised (NTP) before apt: ok");
        List<String> calls = PreparePhasesTest.calls(root).lines().toList();
        int firstApt = calls.indexOf(calls.stream().filter(l -> l.startsWith("apt-get ")).findFirst().orElseThrow());
        assertThat(calls.subList(0, firstApt)).filteredOn(l -> l.startsWith("timedatectl ")).hasSize(4);
        // The stand-in apt-get rejects the Release file while the clock is unsynchronised, as apt does: never seen.
        assertThat(result.stderr()).doesNotContain("not valid yet");
        assertThat(aptCalls(root)).contains(INSTALL + "nftables dnsmasq");
    }

    @Test
    void aTimeServiceInBackOffIsRestartedWhileTheClockIsWaitedFor() throws Exception {
        // systemd-timesyncd backs off after unanswered requests (a card that booted before its gateway
        // routed); the wait restarts it every PIIMAGE_NTP_NUDGE seconds so it asks again.
        Path root = node("makina.yaml", "lb1");
        BakedNodes.write(root, "stand-in/ntp-unsynchronised-calls", "4\n");

        ProcessResult result = run(root, "PIIMAGE_NTP_NUDGE=0");
        assertThat(result.exitCode()).as(result.output()).isZero();
        List<String> calls = PreparePhasesTest.calls(root).lines().toList();
        int firstApt = calls.indexOf(calls.stream().filter(l -> l.startsWith("apt-get ")).findFirst().orElseThrow());
        assertThat(calls.subList(0, firstApt)).filteredOn(l -> l.equals("systemctl restart systemd-timesyncd.service"))
                .hasSizeBetween(1, 3);
        assertThat(result.stderr()).contains("restarting systemd-timesyncd so that it asks again now");

    }

    @Test
    void packagesTheImageAlreadyHasNeedNeitherTheNetworkNorTheClock() throws Exception {
        // An image with keepalived and HAProxy preinstalled, or a rerun after a power cut once apt had
        // finished but before the phase was recorded: nothing to download, so nothing to wait for.
        Path root = node("makina.yaml", "lb1");
        BakedNodes.write(root, "stand-in/installed-packages", "keepalived\ncurl\nhaproxy\n");
        BakedNodes.write(root, "stand-in/ntp-synchronized", "no\n");
        BakedNodes.write(root, "stand-in/apt-get-failures", "100\n");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("packages: keepalived curl haproxy already installed");
        assertThat(aptCalls(root)).isEmpty();
        assertThat(PreparePhasesTest.calls(root).lines()).noneMatch(l -> l.startsWith("timedatectl "));
    }

    @Test
    void oneMissingPackageIsInstalledWithTheRest() throws Exception {
        Path other = node("makina.yaml", "lb2");
        BakedNodes.write(other, "stand-in/installed-packages", "keepalived\ncurl\n");
        ProcessResult partial = run(other);
        assertThat(partial.exitCode()).as(partial.output()).isZero();
        assertThat(aptCalls(other)).contains(INSTALL + "keepalived curl haproxy");
    }

    @Test
    void aClockThatNeverSynchronisesIsWaitedForBoundedThenAptIsTried() throws Exception {
        Path root = node("makina.yaml", "lb2");
        BakedNodes.write(root, "stand-in/ntp-synchronized", "no\n");

        ProcessResult result = run(root, "PIIMAGE_CLOCK_WAIT=1");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("clock not synchronised after 1s", "trying apt anyway",
                "packages: installed keepalived curl haproxy");
    }

    @Test
    void aptThatKeepsFailingFailsThePhaseBoundedAndTheNextRunCompletesIt() throws Exception {
        Path root = node("makina.yaml", "lb1");
        BakedNodes.write(root, "stand-in/apt-get-failures", "100000\n");

        ProcessResult failed = run(root, "PIIMAGE_APT_WAIT=1");
        assertThat(failed.exitCode()).isNotZero();
        assertThat(Files.readString(root.resolve("var/lib/piimage/state")))
                .contains("state=failed", "last_error=gave up after 1s waiting for apt-get install keepalived curl haproxy");
        assertThat(root.resolve("var/lib/piimage/phases/15-packages.done")).doesNotExist();

        // systemd starts the runner again (Restart=on-failure); the mirror answers now.
        BakedNodes.write(root, "stand-in/apt-get-failures", "0\n");
        ProcessResult again = run(root);
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(root.resolve("var/lib/piimage/phases/15-packages.done")).exists();
    }

    @Test
    void kubernetesNodesInstallTheirPackagesFirstAndEveryAptGetWaitsForTheDpkgLock() throws Exception {
        Path root = node("makina.yaml", "worker1");
        Files.delete(root.resolve("var/lib/piimage/phases/20-install.done"));
        BakedNodes.write(root, "stand-in/apt-get-failures", "2\n");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        List<String> apt = aptCalls(root);
        assertThat(apt).isNotEmpty().allSatisfy(l -> assertThat(l).startsWith("apt-get -q -o DPkg::Lock::Timeout=600 "));
        assertThat(apt).filteredOn(l -> l.contains(" install ")).hasSize(2);
        assertThat(apt.get(apt.size() - 1)).contains("install -y --allow-change-held-packages", "kubelet kubeadm kubectl");
        assertThat(result.stderr()).contains("phase 15-packages: done", "phase 20-install: done");
    }
}
