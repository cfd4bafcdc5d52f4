package io.piimage.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.testing.CardSecretScan;
import io.piimage.testing.DebianRootfs;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.LanTimeServer;
import io.piimage.testing.PackageMirror;
import io.piimage.testing.QemuVm;
import io.piimage.testing.StandInImage;
import io.piimage.testing.VirtualSwitch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rehearsal, second scenario, on the Raspberry Pi OS stand-in ({@link StandInBases#RASPIOS_TRIXIE}),
 * with the plan's other endpoint mode, {@code vip-only}: a gateway, a control plane that holds the VIP
 * itself, and a worker, powered on in a shuffled order with delays. Kubernetes comes from the
 * rehearsal's pkgs.k8s.io ({@link KubernetesStandInRepo}: stand-in kubeadm, kubelet, kubectl, cri-tools
 * and kubernetes-cni packages, HTTPS through a test CA only the stand-in bases trust, its Release.key
 * fetched by the card as from pkgs.k8s.io), containerd and the rest from the mirror of Debian's .debs.
 * The cards boot as a Pi's firmware would boot them: the kernel arguments are read from the card's
 * cmdline.txt at every power-on, and the memory cgroup stays disabled until cmdline.txt enables it (a
 * Raspberry Pi kernel's default), so the Kubernetes nodes go through the first boot's memory-cgroup
 * reboot. The stand-in kubeadm runs kubeadm's preflight checks and, on the control plane, Debian's real
 * etcd from the prebaked etcd CA; the stand-in kubelet refuses containerd without the systemd cgroup
 * driver or without the pod network's plugins in its CNI directory. The worker loses power (its QEMU is
 * killed) while dpkg unpacks the Kubernetes packages in 20-install (held there by a fault-injection
 * hook, {@link KubernetesStandInRepo#POWER_CUT_HOOK}) and is powered on again.
 *
 * <p>Three control planes and their etcd joins, and the Ubuntu stand-in, are the third scenario's
 * ({@link UbuntuStandInStackedControlPlanesRehearsalTest}); a control plane behind dedicated load
 * balancers the first's ({@link RaspiosStandInLoadBalancersRehearsalTest}).
 */
@Tag("rehearsal")
class RaspiosStandInControlPlaneAndWorkerRehearsalTest {

    /** Baked now: join certificates live 28 days, and the cards' clocks come from NTP (this machine's). */
    static final Clock CLOCK = Clock.systemUTC();
    static final Duration FIRST_BOOT = Duration.ofMinutes(Long.getLong("rehearsal.firstBootMinutes", 40));
    /** Console lines that mean a node will never finish by itself: the test stops at the first one. */
    static final Pattern FATAL = Pattern.compile(".*(to break ordering cycle|conffile prompt"
            + "|dpkg was interrupted, you must manually run|kubelet-stand-in: refusing to start:.*"
            + "|\\[ERROR [A-Za-z0-9-]+\\]:.*|memory cgroup is still disabled after a reboot.*).*");

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster: {name: rehearsal-k8s, kubernetesVersion: "1.31"}
            endpoint: {vip: 10.78.0.240, loadBalancer: vip-only}
            network: {subnet: 10.78.0.0/24, gateway: 10.78.0.1, interface: eth0}
            os:
              image: raspios-trixie
              ntpServers: [10.0.2.123]
              sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop"]
            nodes:
              - {name: gw, role: gateway, address: 10.78.0.1, interface: eth0, uplink: eth1}
              - {name: cp1, role: control-plane, address: 10.78.0.11}
              - {name: w1, role: worker, address: 10.78.0.21}
            """;

    static final Map<String, String> MACS = Map.of("gw", "52:54:00:78:00:01", "cp1", "52:54:00:78:00:11",
            "w1", "52:54:00:78:00:21");
    static final String GW_UPLINK_MAC = "00:50:b6:78:00:02";
    static final String HOME_TIME_SERVER = "10.0.2.123";
    /** Where pkgs.k8s.io is on the home side (the stand-in internet's DNS answers with it). */
    static final String PKGS_ADDRESS = "10.0.2.101";
    /**
     * The node that loses power while dpkg unpacks the Kubernetes packages in 20-install: the worker,
     * which waits for the control plane's init anyway, so the extra boot costs the run little.
     */
    static final String POWER_CUT = "w1";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    private StandInImage.Image base;
    private Path out;

    @Test
    void gatewayControlPlaneAndWorkerOnTheRaspiosStandInRebootForTheMemoryCgroupInstallFromPkgsK8sIoStandInAndFormACluster_kubeadmStandIn()
            throws Exception {
        long started = System.nanoTime();
        for (String tool : List.of("qemu-system-x86_64", "socat", "mcopy", "debugfs", "apt-ftparchive", "gpg",
                "dpkg-deb", "openssl")) {
            ExternalTool.require(tool);
        }
        Path rootfs = DebianRootfs.cached(StandInBases.RASPIOS_TRIXIE);
        List<String> packages = new ArrayList<>(Rehearsal.rolePackages());
        packages.addAll(KubernetesStandInRepo.DEBIAN_DEPENDENCIES);
        PackageMirror mirror = PackageMirror.build(Files.createDirectories(tmp.resolve("mirror")), "trixie", rootfs,
                packages);
        KubernetesStandInRepo pkgs = KubernetesStandInRepo.build(Files.createDirectories(tmp.resolve("pkgs")), "1.31");
        log(started, "mirror: " + mirror.debs().size() + " .debs; stand-in pkgs.k8s.io built");

        Map<String, String> rootFiles = new TreeMap<>(Rehearsal.trustPkgsK8sIo(rootfs, pkgs, PKGS_ADDRESS));
        rootFiles.put(KubernetesStandInRepo.POWER_CUT_NODE_PATH, POWER_CUT + "\n");
        base = Rehearsal.raspiosBase(Files.createDirectories(tmp.resolve("base")), rootfs, mirror.publicKey(), rootFiles);

        Path plan = Files.writeString(tmp.resolve("rehearsal-k8s.yaml"), PLAN);
        out = tmp.resolve("out");
        Bake.builder(plan).output(out).clock(CLOCK).baseImage(base.path()).build().run();
        // The gateway's card is the bake's node image; the Kubernetes nodes' cards are seeded by hand, the
        // stock image with the node's three files copied on (cmdline.txt as the image has it).
        PoweredCards pis = new PoweredCards(tmp, DebianRootfs.kernel(rootfs), DebianRootfs.initrd(rootfs),
                base.bootOffset(), what -> log(started, what));
        Map<String, Path> cards = pis.cards;
        cards.put("gw", out.resolve("gw.img"));
        for (String node : List.of("cp1", "w1")) {
            cards.put(node, Rehearsal.cardByHand(base, out.resolve(node), tmp.resolve(node + "-by-hand.img")));
        }
        int mirrorPort = mirror.serve();
        int pkgsPort = pkgs.serve();
        log(started, "baked; serving the mirror and pkgs.k8s.io");

        try (mirror; pkgs; VirtualSwitch lan = new VirtualSwitch(); VirtualSwitch home = new VirtualSwitch();
             LanTimeServer timeServer = new LanTimeServer(home, HOME_TIME_SERVER, "52:54:00:78:01:23"); pis) {
            pis.nics.put("gw", List.of(QemuVm.Nic.switchPort(lan, MACS.get("gw")),
                    QemuVm.Nic.usbUplink("net=10.0.2.0/24"
                            + Rehearsal.guestForward(StandInBases.MIRROR_ADDRESS, 80, mirrorPort)
                            + Rehearsal.guestForward(PKGS_ADDRESS, 443, pkgsPort),
                            GW_UPLINK_MAC, home)));
            pis.nics.put("cp1", List.of(QemuVm.Nic.switchPort(lan, MACS.get("cp1"))));
            pis.nics.put("w1", List.of(QemuVm.Nic.switchPort(lan, MACS.get("w1"))));

            // Shuffled, with delays, never the gateway first: the others must wait for it and retry.
            pis.powerOnAll(Rehearsal.seed());
            Map<String, QemuVm> vms = pis.vms;
            boolean[] powerCut = {false};
            pis.awaitAllDone(FIRST_BOOT, FATAL, () -> {
                if (!powerCut[0] && vms.get(POWER_CUT).console().contains(KubernetesStandInRepo.POWER_CUT_READY)) {
                    vms.get(POWER_CUT).kill();
                    powerCut[0] = true;
                    log(started, POWER_CUT + " lost power while dpkg unpacked the Kubernetes packages");
                    Thread.sleep(3_000);
                    pis.powerOn(POWER_CUT);
                    log(started, POWER_CUT + " powered on again: " + pis.lastArguments.get(POWER_CUT));
                }
            });
            assertThat(powerCut[0]).as("%s lost power during 20-install", POWER_CUT).isTrue();

            Map<String, String> consoles = pis.consoles();
            for (String node : List.of("cp1", "w1")) {
                String console = consoles.get(node);
                // The memory-cgroup reboot: cmdline.txt gained cgroup_enable=memory, the node rebooted once,
                // and came back with the memory cgroup.
                assertThat(console).as(node).contains("cmdline.txt: appended cgroup_enable=memory", "memory cgroup: enabled");
                // Its first boot and the memory-cgroup reboot; the worker also the boot after its power cut.
                assertThat(pis.boots.get(node)).as("%s: boots", node).isEqualTo(node.equals(POWER_CUT) ? 3 : 2);
                assertThat(pis.lastArguments.get(node)).as(node).contains("cgroup_enable=memory")
                        .doesNotContain("cgroup_disable=memory");
                // pkgs.k8s.io's signing key over HTTPS, the stand-in packages installed, containerd set up
                // the way the stand-in kubelet accepts.
                assertThat(console).as(node).contains("pkgs.k8s.io signing key installed",
                        "kubelet-stand-in: containerd: SystemdCgroup = true, CNI plugins in /opt/cni/bin",
                        "[kubeadm-stand-in] [preflight] Running pre-flight checks");
                assertThat(console).as("%s: NTP before apt", node)
                        .contains("the clock to be synchronised (NTP) before apt: ok");
            }
            assertThat(consoles.get("cp1")).contains("Your Kubernetes control-plane has initialized successfully!",
                    "bootstrap token", "cni: flannel applied");
            assertThat(consoles.get("w1")).contains("This node has joined the cluster");
            // After the power cut dpkg's work was finished first, then 20-install went on.
            assertThat(consoles.get(POWER_CUT)).contains("dpkg was interrupted (a power cut?): dpkg --configure -a",
                    "phase 20-install: done");
            assertThat(pkgs.requests()).anyMatch(r -> r.matches("GET /core:/stable:/v1.31/deb/Release.key 200"))
                    .anyMatch(r -> r.matches("GET /core:/stable:/v1.31/deb/amd64/kubeadm_.* 200"));
            assertThat(timeServer.answered()).as("NTP answers").isNotEmpty();

            Rehearsal.assertUnitsHealthy(vms);
            // cp1 holds the VIP (vip-only: only a node whose apiserver is healthy may).
            assertThat(Rehearsal.lastVrrpState(vms.get("cp1").console())).isEqualTo("MASTER");

            pis.powerOffAll();
        }
        // What the control plane's apiserver stand-in recorded (read back from the powered-off card): both
        // nodes registered, the worker with its own join certificate; the bootstrap token deleted; flannel.
        String state = debugfsCat(cards.get("cp1"), "/var/lib/apiserver-stand-in/state.json");
        assertThat(state).contains("\"registeredBy\": \"piimage:join:w1\"", "\"registeredBy\": \"kubernetes-super-admin\"",
                "\"tokens\": []", "DaemonSet/kube-flannel-ds");
        for (String node : List.of("gw", "cp1", "w1")) {
            Map<String, byte[]> boot = Rehearsal.bootFiles(cards.get(node), base.bootOffset(),
                    tmp.resolve("after-" + node));
            assertThat(new String(boot.get("piimage-status.txt"), StandardCharsets.UTF_8)).as(node)
                    .contains("node=" + node, "state=done");
        }
        // The boot partitions after the first boot: no private key, token or password left in any byte.
        Map<String, List<String>> secrets = Rehearsal.privateKeysAndTokens(Bake.defaultSecretsDir(plan));
        for (String node : List.of("gw", "cp1", "w1")) {
            Path img = cards.get(node);
            assertThat(CardSecretScan.leftOvers(img, base.bootOffset(), base.rootOffset() - base.bootOffset(),
                    base.rootOffset(), 0, secrets)).as("secrets left on %s's boot partition", node).isEmpty();
        }
        log(started, "rehearsal passed");
    }

    private String debugfsCat(Path card, String path) {
        return CardSecretScan.debugfs(card + "?offset=" + base.rootOffset(), "cat " + path);
    }

    private static void log(long started, String what) {
        System.out.printf("rehearsal +%ds: %s%n", (System.nanoTime() - started) / 1_000_000_000L, what);
    }
}
