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
 * The rendered 10-prepare and 20-install phases, run by the rendered runner in a scratch root with
 * stand-ins for the tools that cannot run here (apt-get, apt-cache, apt-mark, systemctl,
 * timedatectl, modprobe, sysctl, swapoff, swapon, containerd): what they change on the node.
 */
class PreparePhasesTest {

    @TempDir
    Path dir;

    Path bin;

    @BeforeEach
    void tools() {
        ExternalTool.require("bash");
        bin = BakedNodes.standIns(dir);
    }

    static final String PI5_PLAN = """
            apiVersion: piimage/v1
            cluster: {name: pa-pi5, kubernetesVersion: "1.31.4"}
            endpoint: {vip: 10.66.1.10, port: 6443, loadBalancer: vip-only}
            network: {subnet: 10.66.1.0/24, gateway: 10.66.1.1}
            os:
              image: raspios-trixie
              sshAuthorizedKeys: ["%s"]
              registryMirrors:
                docker.io: {endpoint: "https://mirror.lab:5000"}
                registry.lab:5005: {endpoint: "http://registry.lab:5005", insecure: true}
            nodes:
              - {name: m1, role: control-plane, address: 10.66.1.11, model: pi5}
            """.formatted(BakedNodes.SSH_KEY);

    Path node(String plan, String node) throws IOException {
        BakedNodes baked = BakedNodes.bake(dir, "pa-plan", plan);
        Path root = baked.layOut(node, Files.createDirectories(dir.resolve("root")));
        Files.writeString(root.resolve("etc/piimage/kubernetes.env"), "PIIMAGE_RETRY_BASE=0\nPIIMAGE_CLOCK_WAIT=3\nPIIMAGE_POLL=0.2\n",
                java.nio.file.StandardOpenOption.APPEND);
        return root;
    }

    /** Marks phases as done so that the runner stops after the ones under test. */
    static void onlyUpTo(Path root, String lastPhase) throws IOException {
        Path phases = Files.createDirectories(root.resolve("var/lib/piimage/phases"));
        try (var files = Files.list(root.resolve("usr/local/lib/piimage/phases"))) {
            for (Path phase : files.toList()) {
                String name = phase.getFileName().toString().replace(".sh", "");
                if (name.compareTo(lastPhase) > 0) {
                    Files.writeString(phases.resolve(name + ".done"), "");
                }
            }
        }
    }

    ProcessResult run(Path root) {
        return ExternalTool.run(Duration.ofSeconds(60), List.of("env", "PATH=" + bin + ":" + System.getenv("PATH"),
                "PIIMAGE_ROOT=" + root, "bash", root.resolve("usr/local/sbin/piimage-firstboot").toString()), root);
    }

    static String calls(Path root) throws IOException {
        Path log = root.resolve("stand-in-calls.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void memoryCgroupIsEnabledOnceWithOneRebootAndAFailedRebootIsReported() throws Exception {
        Path root = node(Files.readString(Project.example("makina.yaml")), "master1");
        onlyUpTo(root, "10-prepare");
        Path cmdline = root.resolve("boot/firmware/cmdline.txt");
        String original = Files.readString(cmdline).strip();
        Files.writeString(root.resolve("sys/fs/cgroup/cgroup.controllers"), "cpuset cpu io pids\n");

        ProcessResult first = run(root);
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(Files.readString(cmdline)).isEqualTo(original + " cgroup_enable=memory\n");
        assertThat(calls(root)).contains("systemctl --no-block reboot");
        assertThat(Files.readString(root.resolve("boot/firmware/piimage-status.txt"))).contains("state=rebooting");

        // systemd runs it again before the reboot happens: no second edit.
        assertThat(run(root).exitCode()).isZero();
        assertThat(Files.readString(cmdline)).isEqualTo(original + " cgroup_enable=memory\n");

        // After the reboot the kernel has the memory cgroup: the phase goes on.
        Files.writeString(root.resolve("proc/sys/kernel/random/boot_id"), "boot-2\n");
        Files.writeString(root.resolve("sys/fs/cgroup/cgroup.controllers"), "cpuset cpu io memory pids\n");
        ProcessResult after = run(root);
        assertThat(after.exitCode()).as(after.output()).isZero();
        assertThat(after.stderr()).contains("memory cgroup: enabled", "swap: off", "the clock to be synchronised (NTP): ok");
        assertThat(calls(root)).contains("modprobe overlay", "modprobe br_netfilter", "sysctl --system", "swapoff -a",
                "timedatectl show --property=NTPSynchronized --value");
        assertThat(Files.readString(cmdline)).isEqualTo(original + " cgroup_enable=memory\n");
    }

    @Test
    void aRebootThatDidNotEnableTheMemoryCgroupIsAnErrorNotARebootLoop() throws Exception {
        Path root = node(Files.readString(Project.example("makina.yaml")), "worker1");
        onlyUpTo(root, "10-prepare");
        Files.writeString(root.resolve("sys/fs/cgroup/cgroup.controllers"), "cpuset cpu io pids\n");
        assertThat(run(root).exitCode()).isZero();
        Files.writeString(root.resolve("proc/sys/kernel/random/boot_id"), "boot-2\n");
        ProcessResult failed = run(root);
        assertThat(failed.exitCode()).isNotZero();
        assertThat(Files.readString(root.resolve("boot/firmware/piimage-status.txt")))
                .contains("state=failed", "last_error=the memory cgroup is still disabled after a reboot");
        assertThat(calls(root).lines().filter(l -> l.contains("reboot"))).hasSize(1);
    }

    @Test
    void anUnsynchronisedClockIsWaitedForBoundedThenReported() throws Exception {
        Path root = node(Files.readString(Project.example("makina.yaml")), "worker1");
        onlyUpTo(root, "10-prepare");
        BakedNodes.write(root, "stand-in/ntp-synchronized", "no\n");
        ProcessResult failed = run(root);
        assertThat(failed.exitCode()).isNotZero();
        assertThat(Files.readString(root.resolve("var/lib/piimage/state")))
                .contains("last_error=gave up after 3s waiting for the clock to be synchronised (NTP)");
    }

    @Test
    void aPi5OnRaspberryPiOsGetsThe4kKernelAndRpiSwapIsTurnedOff() throws Exception {
        Path root = node(PI5_PLAN, "m1");
        onlyUpTo(root, "10-prepare");
        BakedNodes.write(root, "boot/firmware/kernel8.img", "");
        BakedNodes.write(root, "etc/rpi/swap.conf", "[Main]\nMechanism=auto\n");
        BakedNodes.write(root, "stand-in/swaps", "/dev/zram0 partition 2G 0B 100\n");

        ProcessResult first = run(root);
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(Files.readString(root.resolve("boot/firmware/config.txt"))).contains("[pi5]\nkernel=kernel8.img\n[all]\n");
        assertThat(calls(root)).contains("systemctl --no-block reboot");

        Files.writeString(root.resolve("proc/sys/kernel/random/boot_id"), "boot-2\n");
        ProcessResult after = run(root);
        assertThat(after.exitCode()).as(after.output()).isZero();
        assertThat(Files.readString(root.resolve("boot/firmware/config.txt")).split("kernel=kernel8.img", -1)).hasSize(2);
        assertThat(Files.readString(root.resolve("etc/rpi/swap.conf"))).contains("Mechanism=none").doesNotContain("auto");
    }

    @Test
    void installPinsThePlansPatchHoldsItAndConfiguresContainerd1x() throws Exception {
        Path root = node(PI5_PLAN, "m1");
        onlyUpTo(root, "20-install");
        Files.writeString(root.resolve("var/lib/piimage/phases/10-prepare.done"), "");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(calls(root)).contains("apt-get -q -o DPkg::Lock::Timeout=600 update",
                "containerd curl jq conntrack socat kubelet=1.31.4-1.1 kubeadm=1.31.4-1.1 kubectl=1.31.4-1.1",
                "apt-mark hold kubelet kubeadm kubectl", "systemctl restart containerd.service", "systemctl enable kubelet.service");
        assertThat(Files.readString(root.resolve("etc/apt/sources.list.d/kubernetes.list")))
                .contains("deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /");
        String config = Files.readString(root.resolve("etc/containerd/config.toml"));
        assertThat(config).contains("SystemdCgroup = true", "config_path = '/etc/containerd/certs.d'")
                .doesNotContain("SystemdCgroup = false");
        assertThat(Files.readString(root.resolve("etc/containerd/certs.d/docker.io/hosts.toml")))
                .contains("server = \"https://registry-1.docker.io\"", "[host.\"https://mirror.lab:5000\"]")
                .doesNotContain("skip_verify");
        assertThat(Files.readString(root.resolve("etc/containerd/certs.d/registry.lab:5005/hosts.toml")))
                .contains("server = \"https://registry.lab:5005\"", "[host.\"http://registry.lab:5005\"]", "skip_verify = true");
    }

    @Test
    void installConfiguresContainerd2xLayoutsToo() throws Exception {
        Path root = node(Files.readString(Project.example("nkte8.yaml")), "node01");
        onlyUpTo(root, "20-install");
        Files.writeString(root.resolve("var/lib/piimage/phases/10-prepare.done"), "");
        Files.writeString(root.resolve("stand-in/containerd-config-default.toml"), BakedNodes.CONTAINERD_2X);
        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("containerd 2.x configuration");
        String config = Files.readString(root.resolve("etc/containerd/config.toml"));
        assertThat(config).contains("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
                "SystemdCgroup = true", "config_path = '/etc/containerd/certs.d'");
        // "1.31" is not pinned: the newest patch of the minor's repository.
        assertThat(calls(root)).contains("containerd curl jq conntrack socat kubelet kubeadm kubectl");

        // A 2.x default without the SystemdCgroup line gets the runc options table appended.
        Files.writeString(root.resolve("stand-in/containerd-config-default.toml"),
                BakedNodes.CONTAINERD_2X.replace("SystemdCgroup = false\n", ""));
        Files.delete(root.resolve("var/lib/piimage/phases/20-install.done"));
        Files.delete(root.resolve("var/lib/piimage/done"));
        assertThat(run(root).exitCode()).isZero();
        assertThat(Files.readString(root.resolve("etc/containerd/config.toml")))
                .endsWith("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n");
    }
}
