package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.DebianPackages;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
    void aTimeServiceInBackOffIsRestartedWhilePrepareWaitsForTheClock() throws Exception {
        // A control plane powered on before the gateway routes: timesyncd's first request goes unanswered
        // and it backs off for minutes (the rehearsal's first control plane waited 8.5 of 10-prepare's 10
        // minutes). The wait restarts it every PIIMAGE_NTP_NUDGE seconds, as 15-packages' wait does.
        Path root = node(Files.readString(Project.example("makina.yaml")), "worker1");
        onlyUpTo(root, "10-prepare");
        Files.writeString(root.resolve("sys/fs/cgroup/cgroup.controllers"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("etc/piimage/kubernetes.env"), "PIIMAGE_CLOCK_WAIT=30\nPIIMAGE_NTP_NUDGE=0\n",
                java.nio.file.StandardOpenOption.APPEND);
        BakedNodes.write(root, "stand-in/ntp-unsynchronised-calls", "4\n");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("no NTP answer yet; restarting systemd-timesyncd so that it asks again now",
                "the clock to be synchronised (NTP): ok");
        assertThat(calls(root).lines()).filteredOn(l -> l.equals("systemctl restart systemd-timesyncd.service"))
                .hasSizeBetween(1, 3);
        assertThat(root.resolve("var/lib/piimage/phases/10-prepare.done")).exists();
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

    /** A node of {@code plan} on Raspberry Pi OS (kernel8.img on the boot partition) whose device tree names {@code board}. */
    Path onBoard(String plan, String node, String board) throws IOException {
        Path root = node(plan, node);
        onlyUpTo(root, "10-prepare");
        BakedNodes.write(root, "boot/firmware/kernel8.img", "");
        BakedNodes.write(root, "proc/device-tree/model", board + "\0");
        return root;
    }

    @Test
    void aPi5TheDeviceTreeNamesGetsThe4kKernelEvenWhenThePlanSaysPi4() throws Exception {
        Path root = onBoard(Files.readString(Project.example("makina.yaml")), "master1", "Raspberry Pi 5 Model B Rev 1.0"); // model: pi4

        ProcessResult first = run(root);
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.stderr()).contains("board: Raspberry Pi 5 Model B Rev 1.0, although the plan says pi4");
        assertThat(Files.readString(root.resolve("boot/firmware/config.txt"))).contains("[pi5]\nkernel=kernel8.img\n[all]\n");
        assertThat(calls(root)).contains("systemctl --no-block reboot");
    }

    @Test
    void aDeclaredPi5ThatIsReallyAPi4ChangesNothingAndDoesNotReboot() throws Exception {
        Path root = onBoard(PI5_PLAN, "m1", "Raspberry Pi 4 Model B Rev 1.4");
        String config = Files.readString(root.resolve("boot/firmware/config.txt"));

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("board: Raspberry Pi 4 Model B Rev 1.4, although the plan says pi5");
        assertThat(Files.readString(root.resolve("boot/firmware/config.txt"))).isEqualTo(config);
        assertThat(calls(root)).doesNotContain("reboot");
    }

    @Test
    void aControlPlaneWithTooLittleMemoryForKubeadmSaysSoBeforeAnythingElse() throws Exception {
        Path root = node(PI5_PLAN, "m1");
        onlyUpTo(root, "10-prepare");
        // What a 1 GB Pi 4 reports.
        BakedNodes.write(root, "proc/meminfo", "MemTotal:         906296 kB\nMemFree:          611640 kB\n");
        Files.writeString(root.resolve("sys/fs/cgroup/cgroup.controllers"), "cpuset cpu io pids\n");
        String cmdline = Files.readString(root.resolve("boot/firmware/cmdline.txt"));

        ProcessResult failed = run(root);
        assertThat(failed.exitCode()).isNotZero();
        assertThat(Files.readString(root.resolve("boot/firmware/piimage-status.txt"))).contains("state=failed",
                "last_error=this board has 885 MB of RAM; a control plane needs at least 1700 MB (kubeadm's preflight check refuses less)");
        // Nothing long happened first: no cmdline edit, no reboot, no package step.
        assertThat(Files.readString(root.resolve("boot/firmware/cmdline.txt"))).isEqualTo(cmdline);
        assertThat(calls(root)).doesNotContain("reboot").doesNotContain("apt-get");
    }

    @Test
    void aWorkerWithOneGigabyteIsFine() throws Exception {
        Path root = node(Files.readString(Project.example("makina.yaml")), "worker1");
        onlyUpTo(root, "10-prepare");
        BakedNodes.write(root, "proc/meminfo", "MemTotal:         906296 kB\n");
        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
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

        // A 2.x default whose runc options table lacks the SystemdCgroup line gets the key added there.
        Files.writeString(root.resolve("stand-in/containerd-config-default.toml"),
                BakedNodes.CONTAINERD_2X.replace("SystemdCgroup = false\n", ""));
        Files.delete(root.resolve("var/lib/piimage/phases/20-install.done"));
        Files.delete(root.resolve("var/lib/piimage/done"));
        assertThat(run(root).exitCode()).isZero();
        assertThat(toml(Files.readString(root.resolve("etc/containerd/config.toml"))))
                .containsEntry("plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options/SystemdCgroup", "true");
    }

    /**
     * 20-install's containerd configuration with the REAL containerd of Debian bookworm (1.6), trixie
     * (1.7, whose default CNI directory is /usr/lib/cni) and sid (2.x, config version 3), checked with
     * that containerd's own {@code config dump} of the result: what containerd will actually use. kubeadm
     * is the stand-in (kubeadm 1.31's image list); apt-get and systemctl are the recording stand-ins.
     */
    @ParameterizedTest(name = "containerd of Debian {0}")
    @CsvSource({
        "bookworm, 'plugins.\"io.containerd.grpc.v1.cri\"', 'plugins.\"io.containerd.grpc.v1.cri\"', bin_dir, sandbox_image, ''",
        "trixie, 'plugins.\"io.containerd.grpc.v1.cri\"', 'plugins.\"io.containerd.grpc.v1.cri\"', bin_dir, sandbox_image, ''",
        "sid, plugins.'io.containerd.cri.v1.runtime', plugins.'io.containerd.cri.v1.images', bin_dirs, sandbox, .pinned_images",
    })
    void realContainerdUsesOptCniBinKubeadmsPauseImageSystemdCgroupsAndCertsD(String suite, String runtime, String images,
            String binDirKey, String sandboxKey, String sandboxTable) throws Exception {
        Path containerd = DebianPackages.extract(suite, "containerd").resolve("usr/bin/containerd");
        Files.delete(bin.resolve("containerd"));
        Files.createSymbolicLink(bin.resolve("containerd"), containerd);
        Path root = node(PI5_PLAN, "m1");
        onlyUpTo(root, "20-install");
        Files.writeString(root.resolve("var/lib/piimage/phases/10-prepare.done"), "");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        Path config = root.resolve("etc/containerd/config.toml");
        ProcessResult dump = ExternalTool.run(Duration.ofSeconds(60),
                List.of(containerd.toString(), "--config", config.toString(), "config", "dump"), dir);
        assertThat(dump.exitCode()).as(dump.output()).isZero();
        Map<String, String> effective = toml(dump.stdout());
        String cni = effective.get(runtime + ".cni/" + binDirKey);
        assertThat(cni).as("CNI plugin directory in\n" + dump.stdout()).isIn("\"/opt/cni/bin\"", "['/opt/cni/bin']");
        assertThat(unquote(effective.get(images + sandboxTable + "/" + sandboxKey))).isEqualTo("registry.k8s.io/pause:3.10");
        assertThat(effective.get(runtime + ".containerd.runtimes.runc.options/SystemdCgroup")).isEqualTo("true");
        assertThat(unquote(effective.get(images + ".registry/config_path"))).isEqualTo("/etc/containerd/certs.d");
        assertThat(calls(root)).contains("kubeadm config images list --kubernetes-version v1.31.4");
    }

    /** A TOML document as "table/key" to the raw value (containerd's dump: one header per table, one line per key). */
    static Map<String, String> toml(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        String table = "";
        for (String line : text.lines().map(String::strip).toList()) {
            if (line.startsWith("[") && !line.startsWith("[[")) {
                table = line.substring(1, line.length() - 1);
            } else if (line.contains(" = ")) {
                values.put(table + "/" + line.substring(0, line.indexOf(" = ")), line.substring(line.indexOf(" = ") + 3));
            }
        }
        return values;
    }

    static String unquote(String value) {
        return value == null ? null : value.replaceAll("^[\"']|[\"']$", "");
    }
}
