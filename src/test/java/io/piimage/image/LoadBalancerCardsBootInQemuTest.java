package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.testing.CardSecretScan;
import io.piimage.testing.DebianRootfs;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.QemuVm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path from plan to a booted node, with stand-ins only where a Pi cannot run here: the cards
 * are baked by {@code bake --base-image} from a base image in the Ubuntu raspi layout (FAT32
 * {@code system-boot} at 1 MiB, ext4 {@code writable}), whose root file system is an x86-64 Debian made
 * by debootstrap ({@link DebianRootfs}) instead of arm64 Ubuntu, and they boot in QEMU (TCG) with the
 * kernel given on QEMU's command line instead of the Pi firmware reading config.txt and cmdline.txt.
 * Everything after the kernel is real: cloud-init finding the seed on the boot partition, our write_files
 * and modes, the first-boot unit and its phases, keepalived and HAProxy electing and moving the VIP
 * between two load balancers on a virtual cable (a TCP connection on 127.0.0.1).
 */
class LoadBalancerCardsBootInQemuTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-01T00:00:00Z"), ZoneOffset.UTC);
    /**
     * What the console shows first; TCG boots take 80-100 s here alone, but two VMs on two cores, with
     * keepalived's check (preinstalled in this base, so it starts at boot) keeping each one vCPU busy,
     * reached cloud-init's final stage after 4-5 minutes in CI.
     */
    static final Duration BOOT = Duration.ofMinutes(10);

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster: {name: bootlab, kubernetesVersion: "1.31"}
            endpoint: {vip: 10.77.0.240, port: 9000, loadBalancer: dedicated}
            network: {subnet: 10.77.0.0/24, gateway: 10.77.0.1, interface: eth0}
            os:
              image: ubuntu-24.04
              sshAuthorizedKeys: ["%s"]
            nodes:
              - {name: lb1, role: load-balancer, address: 10.77.0.241}
              - {name: lb2, role: load-balancer, address: 10.77.0.242}
              - {name: cp1, role: control-plane, address: 10.77.0.251}
            """;

    /** Kept when the test fails: the consoles and the network captures tell what happened. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    @Test
    void twoLoadBalancerCardsBootInQemuStandInsRunTheirFirstBootAndMoveTheVip() throws Exception {
        // Every tool before debootstrap's minutes: the image tools, then QEMU and debugfs.
        TestImages.requireTools();
        ExternalTool.require("qemu-system-x86_64");
        ExternalTool.require("debugfs");
        Path keygen = ExternalTool.require("ssh-keygen");
        ExternalTool.require("ssh-keyscan");
        ExternalTool.require("ssh");
        Path rootfs = DebianRootfs.cached();
        TestImages.Image base = buildBase(rootfs);

        // The operator's key, to log in with ssh under StrictHostKeyChecking.
        Path clientKey = tmp.resolve("operator_ed25519");
        ProcessResult made = ExternalTool.run(Duration.ofSeconds(30), List.of(keygen.toString(), "-q", "-t", "ed25519", "-N", "",
                "-C", "operator@test", "-f", clientKey.toString()), tmp);
        assertThat(made.exitCode()).as(made.output()).isZero();
        String authorized = Files.readString(Path.of(clientKey + ".pub")).strip();
        Path plan = Files.writeString(tmp.resolve("bootlab.yaml"), PLAN.formatted(authorized));
        Path out = tmp.resolve("out");
        Bake.builder(plan).output(out).clock(CLOCK).baseImage(base.path()).build().run();

        // Kernel arguments a Pi would take from cmdline.txt; net.ifnames=0 names the NIC eth0 as on a Pi.
        String append = "root=LABEL=writable ro console=ttyS0 panic=-1 net.ifnames=0"
                + " systemd.journald.forward_to_console=1";
        QemuVm.Lan lan = QemuVm.lan();
        Map<String, Integer> sshPorts = Map.of("lb1", QemuVm.lan().port(), "lb2", QemuVm.lan().port());
        try (QemuVm lb1 = QemuVm.boot("lb1", tmp, DebianRootfs.kernel(rootfs), DebianRootfs.initrd(rootfs), append,
                out.resolve("lb1.img"), lan, true, "52:54:00:77:00:41", sshNic(sshPorts.get("lb1"), "52:54:00:77:01:41"));
             // lb2 can be reset like a Pi whose power is cut and comes back: same QEMU, same cable.
             QemuVm lb2 = QemuVm.start(new QemuVm.Spec("lb2", tmp, DebianRootfs.kernel(rootfs), DebianRootfs.initrd(rootfs),
                     append, out.resolve("lb2.img"), List.of(QemuVm.Nic.cable(lan, false, "52:54:00:77:00:42")), true, 1024),
                     sshNic(sshPorts.get("lb2"), "52:54:00:77:01:42"))) {
            // Power cut on lb2 once cloud-init's runcmd has started the first boot, before it is done. On the
            // next boot nothing kicks the unit by hand (runcmd runs once per instance): it must start by
            // itself, which it did not while it was ordered after cloud-final (an ordering cycle, so systemd
            // deleted its start job on every boot after the first).
            lb2.awaitConsole("piimage-firstboot\\[lb2\\]: phase 05-interfaces: starting", BOOT);
            int cut = lb2.console().length();
            lb2.reset();
            Map<QemuVm, Integer> from = Map.of(lb1, 0, lb2, cut);
            for (QemuVm vm : List.of(lb1, lb2)) {
                // cloud-init took the node's seed from the boot partition (vda1), not the image's defaults.
                vm.awaitConsole(Pattern.compile("Cloud-init v\\. \\S+ finished at .*Datasource DataSourceNoCloud \\[seed=/dev/vda1\\]"),
                        from.get(vm), BOOT);
                vm.awaitConsole(Pattern.compile("piimage-firstboot\\[" + vm.name() + "\\]: phase 30-endpoint: (starting|done earlier)"),
                        from.get(vm), BOOT);
                vm.awaitConsole(Pattern.compile("piimage-firstboot\\[" + vm.name() + "\\]: all phases done"), from.get(vm), BOOT);
                vm.awaitConsole(Pattern.compile("\\b" + vm.name() + " login:"), from.get(vm), BOOT); // the hostname cloud-init set
            }
            assertThat(lb2.console().substring(cut)).as("lb2 after the power cut")
                    .doesNotContain("deleted to break ordering cycle")
                    .containsPattern("piimage-firstboot\\[lb2\\]: phase 05-interfaces: (starting|done earlier)");
            // sshd serves the host keys the bake made, and the baked known_hosts lets the operator in
            // with no question asked.
            for (QemuVm vm : List.of(lb1, lb2)) {
                assertHostKeysAreTheBakedOnes(vm.name(), sshPorts.get(vm.name()), out.resolve("known_hosts"), clientKey);
            }

            // Election: one load balancer holds the VIP, the other stands by, and it stays that way.
            QemuVm master = awaitElection(lb1, lb2, Duration.ofMinutes(1));
            QemuVm backup = master == lb1 ? lb2 : lb1;
            int settled = backup.console().length();
            int masterSettled = master.console().length();
            Thread.sleep(15_000);
            // Steady: a check that fails on the holder (e.g. by outlasting keepalived's timeout while
            // the control plane is still off) would show up here as FAULT and a new election.
            assertThat(master.console().substring(masterSettled)).doesNotContain("Entering");
            assertThat(backup.console().substring(settled)).doesNotContain("Entering");

            // Pull the plug on the VIP holder: the other takes the VIP over.
            master.kill();
            backup.awaitConsole(Pattern.compile("Entering MASTER STATE"), settled, Duration.ofSeconds(30));

            backup.powerOff(Duration.ofMinutes(3));
            assertCardAfterFirstBoot(base, out.resolve(backup.name() + ".img"), out.resolve(backup.name()).resolve("user-data"),
                    backup.name());
            // Both cards, the one switched off and the one whose plug was pulled (the finish phase
            // synced long before), hold their secrets only where they belong.
            Map<String, List<String>> secrets = CardSecretScan.secretsOf(Bake.defaultSecretsDir(plan), List.of("lb1", "lb2"));
            for (QemuVm vm : List.of(backup, master)) {
                Path img = out.resolve(vm.name() + ".img");
                assertThat(CardSecretScan.leftOvers(img, base.bootOffset(), base.bootLength(), base.rootOffset(),
                        base.rootLength(), secrets)).as("secrets left on %s after its first boot", img.getFileName()).isEmpty();
            }
        }
    }

    /**
     * A second NIC for the test's own ssh: QEMU's user-mode network, restricted (no way out), with the
     * guest's port 22 forwarded from a port on the host's 127.0.0.1 only. It comes after the cable, so
     * it is eth1; the base configures it statically (see {@link #buildBase}).
     */
    private static List<String> sshNic(int hostPort, String mac) {
        return List.of("-netdev", "user,id=ssh,restrict=on,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:" + hostPort + "-10.0.2.15:22",
                "-device", "virtio-net-pci,netdev=ssh,mac=" + mac);
    }

    /** {@code ssh-keyscan} of the VM gives exactly the node's lines of the baked known_hosts; ssh trusts them. */
    private void assertHostKeysAreTheBakedOnes(String node, int port, Path knownHosts, Path clientKey) throws Exception {
        List<String> baked = Files.readAllLines(knownHosts).stream().filter(l -> l.startsWith(node + ","))
                .map(l -> l.substring(l.indexOf(' ') + 1)).sorted().toList();
        assertThat(baked).hasSize(2);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        List<String> scanned;
        ProcessResult scan;
        do {
            scan = ExternalTool.run(Duration.ofSeconds(60), List.of("ssh-keyscan", "-T", "20", "-p", String.valueOf(port),
                    "-t", "ed25519,ecdsa", "127.0.0.1"), tmp);
            scanned = scan.stdout().lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                    .map(l -> l.substring(l.indexOf(' ') + 1)).sorted().toList();
        } while (scanned.size() < 2 && System.nanoTime() < deadline && sleep(5_000));
        assertThat(scanned).as("ssh-keyscan of %s: %s", node, scan.output()).isEqualTo(baked);

        // The operator's ssh, strict: an unknown or different host key fails instead of prompting.
        ProcessResult login = ExternalTool.run(Duration.ofSeconds(120), List.of("ssh", "-F", "/dev/null",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
                "-o", "HostKeyAlias=" + node, "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=60", "-i", clientKey.toString(),
                "-p", String.valueOf(port), "ubuntu@127.0.0.1", "hostname"), tmp);
        assertThat(login.exitCode()).as("ssh to %s: %s", node, login.output()).isZero();
        assertThat(login.stdout().strip()).isEqualTo(node);
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    /** The base card: Ubuntu's raspi layout with Ubuntu-like boot files around the Debian root. */
    private TestImages.Image buildBase(Path rootfs) throws IOException {
        Map<String, byte[]> boot = new TreeMap<>();
        boot.put("cmdline.txt", TestImages.Layout.UBUNTU.cmdline.getBytes(StandardCharsets.US_ASCII));
        boot.put("config.txt", "[all]\nkernel=vmlinuz\ncmdline=cmdline.txt\ninitramfs initrd.img followkernel\n"
                .getBytes(StandardCharsets.US_ASCII));
        // Ubuntu's own seed, which the node's must replace: booting with it would leave the host "ubuntu".
        boot.put("user-data", "#cloud-config\nhostname: ubuntu\n".getBytes(StandardCharsets.US_ASCII));
        boot.put("meta-data", "instance_id: cloud-image\n".getBytes(StandardCharsets.US_ASCII));
        boot.put("network-config", "version: 2\n".getBytes(StandardCharsets.US_ASCII));
        long rootLength = (DebianRootfs.sizeBytes(rootfs) + 768 * TestImages.MIB) / TestImages.MIB * TestImages.MIB;
        TestImages.Image image = TestImages.build(tmp, TestImages.Layout.UBUNTU, "32", 64, boot, rootfs, rootLength);
        // The test's own ssh NIC (eth1, see sshNic): a static address on QEMU's user network, no gateway.
        Path mgmt = Files.writeString(tmp.resolve("piimage-test-ssh"), "auto eth1\niface eth1 inet static\n    address 10.0.2.15/24\n");
        Path commands = Files.writeString(tmp.resolve("debugfs-write"),
                "cd /etc/network/interfaces.d\nwrite " + mgmt + " piimage-test-ssh\n");
        ProcessResult wrote = ExternalTool.run(Duration.ofSeconds(60), List.of("debugfs", "-w", "-f", commands.toString(),
                image.path() + "?offset=" + image.rootOffset()), tmp);
        assertThat(wrote.exitCode()).as(wrote.output()).isZero();
        assertThat(wrote.stderr()).doesNotContain("rror");
        return image;
    }

    private static final Pattern VRRP_STATE = Pattern.compile("\\(BOOTLAB_ENDPOINT\\) Entering (MASTER|BACKUP|FAULT) STATE");

    private static String lastVrrpState(QemuVm vm) throws IOException {
        Matcher m = VRRP_STATE.matcher(vm.console());
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    /** The VM that ends up MASTER while the other is BACKUP. */
    private static QemuVm awaitElection(QemuVm a, QemuVm b, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String sa = lastVrrpState(a);
            String sb = lastVrrpState(b);
            if ("MASTER".equals(sa) && "BACKUP".equals(sb)) {
                return a;
            }
            if ("MASTER".equals(sb) && "BACKUP".equals(sa)) {
                return b;
            }
            assertThat(System.nanoTime()).as("VRRP states %s=%s %s=%s", a.name(), sa, b.name(), sb).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /** What the first boot left on the card, read from the powered-off image with debugfs and mtools. */
    private void assertCardAfterFirstBoot(TestImages.Image base, Path img, Path baked, String node) throws IOException {
        String root = img + "?offset=" + base.rootOffset();
        assertThat(debugfs(root, "cat /etc/hostname").trim()).isEqualTo(node);
        assertThat(mode(root, "/etc/keepalived/keepalived.conf")).isEqualTo("0600");
        assertThat(mode(root, "/etc/haproxy/haproxy.cfg")).isEqualTo("0644");
        assertThat(mode(root, "/usr/local/sbin/piimage-firstboot")).isEqualTo("0755");
        assertThat(mode(root, "/etc/keepalived/piimage-check-endpoint")).isEqualTo("0755");
        assertThat(debugfs(root, "stat /var/lib/piimage/done")).contains("Type: regular");

        Map<String, byte[]> boot = TestImages.readAllWithMtools(img, base.bootOffset(), tmp.resolve("after-" + node));
        String status = new String(boot.get("piimage-status.txt"), StandardCharsets.UTF_8);
        assertThat(status).contains("node=" + node, "state=done");
        // The finish phase scrubbed the boot partition's user-data of its 0600 entries: keepalived.conf,
        // which holds the VRRP password. The rest stays, so cloud-init still reads a valid file.
        String secretEntry = "  - path: \"/etc/keepalived/keepalived.conf\"\n";
        assertThat(Files.readString(baked)).contains(secretEntry, "auth_pass");
        String userData = new String(boot.get("user-data"), StandardCharsets.UTF_8);
        assertThat(userData).startsWith("#cloud-config").contains("hostname: " + node)
                .contains("  - path: \"/etc/haproxy/haproxy.cfg\"\n")
                .doesNotContain(secretEntry).doesNotContain("auth_pass")
                .doesNotContainPattern("(?m)^ssh_keys:").doesNotContain("PRIVATE KEY")
                .contains("ssh_deletekeys: true\n") // what is not secret stays
                .doesNotContainPattern("#\\s{8,}\n"); // the padding written over the secrets was cut off
    }

    private static String mode(String root, String path) {
        Matcher m = Pattern.compile("Mode:\\s+(\\d+)").matcher(debugfs(root, "stat " + path));
        assertThat(m.find()).as("debugfs stat %s", path).isTrue();
        String mode = m.group(1);
        return mode.substring(Math.max(0, mode.length() - 4));
    }

    private static String debugfs(String device, String request) {
        return CardSecretScan.debugfs(device, request);
    }
}
