package io.piimage.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.piimage.testing.CardSecretScan;
import io.piimage.testing.DebianRootfs;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.QemuVm;
import io.piimage.testing.StandInImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What the rehearsal scenarios share: the role packages, kernel arguments, reading cards back. */
final class Rehearsal {

    private Rehearsal() {
    }

    /** Every package a card's overlays install at boot (overlays/*&#47;packages), read from the project. */
    static List<String> rolePackages() throws IOException {
        Path overlays = Path.of(System.getProperty("piimage.projectRoot", ".")).resolve("overlays");
        List<String> packages = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(overlays)) {
            for (Path list : dirs.map(d -> d.resolve("packages")).filter(Files::isRegularFile).sorted().toList()) {
                for (String line : Files.readAllLines(list)) {
                    String p = line.replaceAll("#.*", "").strip();
                    if (!p.isEmpty() && !packages.contains(p)) {
                        packages.add(p);
                    }
                }
            }
        }
        assertThat(packages).as("overlays/*/packages").isNotEmpty();
        return packages;
    }

    /**
     * The kernel command line a Pi would boot this card with: its cmdline.txt (after the bake), but the
     * console on QEMU's serial port instead of the Pi's, without Pi OS's init= (raspberrypi-sys-mods'
     * first-boot resize, which the stand-in has not), and with a longer wait for devices.
     */
    static String kernelArguments(Map<String, byte[]> bootFiles) {
        String cmdline = new String(bootFiles.get("cmdline.txt"), StandardCharsets.US_ASCII).strip();
        List<String> args = new ArrayList<>();
        for (String arg : cmdline.split("\\s+")) {
            if (!arg.startsWith("console=") && !arg.startsWith("init=") && !arg.equals("quiet")
                    && !arg.equals("splash")) {
                args.add(arg);
            }
        }
        // TCG on a shared machine: udev's coldplug can take minutes, longer than systemd's 90 s wait for
        // a device such as the boot partition; a Pi is not that slow. systemd-ssh-generator probes
        // AF_VSOCK, which loads the VM socket modules a Pi has no use for; under TCG that pushed the
        // generators past systemd's limit and PID 1 froze ("Failed to start up manager"). Starved of CPU,
        // even journald missed its 90 s start timeout: the default for every unit is raised too.
        args.addAll(List.of("console=ttyS0", "panic=-1", "systemd.journald.forward_to_console=1",
                "systemd.default_device_timeout_sec=900", "systemd.default_timeout_start_sec=900",
                "systemd.ssh_auto=0"));
        return String.join(" ", args);
    }

    /**
     * {@link #kernelArguments} as a Raspberry Pi kernel takes them: Raspberry Pi's kernels keep the memory
     * cgroup disabled unless cmdline.txt says {@code cgroup_enable=memory}; Debian's kernel, which the
     * stand-ins boot, is told so with {@code cgroup_disable=memory}.
     */
    static String piKernelArguments(Map<String, byte[]> bootFiles) {
        String args = kernelArguments(bootFiles);
        return args.matches("(^|.* )cgroup_enable=memory( .*|$)") ? args : args + " cgroup_disable=memory";
    }

    /**
     * A card seeded the way the README's first path says and most users do it: the stock base image
     * flashed as it is, then the node's three files copied onto its boot partition over the ones there
     * (nothing else of the bake touches the card: cmdline.txt stays as the image has it).
     */
    static Path cardByHand(StandInImage.Image base, Path nodeFiles, Path card) throws IOException {
        ProcessResult cp = ExternalTool.run(Duration.ofMinutes(5), List.of("cp", "--sparse=always", base.path().toString(),
                card.toString()), null);
        assertThat(cp.exitCode()).as("cp base image\n%s", cp.output()).isZero();
        List<String> mcopy = new ArrayList<>(List.of("env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-o", "-i",
                card + "@@" + base.bootOffset()));
        for (String file : List.of("user-data", "meta-data", "network-config")) {
            mcopy.add(nodeFiles.resolve(file).toString());
        }
        mcopy.add("::/");
        ProcessResult r = ExternalTool.run(Duration.ofMinutes(2), mcopy, null);
        assertThat(r.exitCode()).as("mcopy of the three files\n%s", r.output()).isZero();
        return card;
    }

    /** The permission bits of {@code path} on a powered-off card's root ({@code image?offset=N}), as debugfs reads them. */
    static String mode(String root, String path) {
        Matcher m = Pattern.compile("Mode:\\s+(\\d+)").matcher(CardSecretScan.debugfs(root, "stat " + path));
        assertThat(m.find()).as("debugfs stat %s", path).isTrue();
        String mode = m.group(1);
        return mode.substring(Math.max(0, mode.length() - 4));
    }

    /** The seed of the power-on order: {@code -Drehearsal.seed=} repeats a run's. */
    static long seed() {
        return Long.getLong("rehearsal.seed", System.currentTimeMillis());
    }

    /** The nodes in a shuffled power-on order, never the gateway first: the others must wait for it and retry. */
    static List<String> powerOnOrder(Collection<String> nodes, long seed) {
        List<String> order = new ArrayList<>(nodes);
        Collections.shuffle(order, new Random(seed));
        if (order.get(0).equals("gw")) {
            Collections.rotate(order, -1);
        }
        return order;
    }

    /** The delay after powering {@code node} on before the next one: 20 to 40 s, from the seed. */
    static long powerOnDelayMillis(long seed, String node) {
        return 20_000 + new Random(seed + node.hashCode()).nextInt(20_000);
    }

    /**
     * The kernel arguments a Pi would boot {@code img} with now ({@link #piKernelArguments}): like the Pi's
     * firmware, only cmdline.txt is read from the boot partition. A power cut can leave another file's
     * FAT chain broken (the status file is rewritten at every phase), which the firmware never looks at
     * and the node's fsck.vfat repairs at boot, but which makes a copy of the whole partition fail.
     */
    static String piKernelArgumentsNow(Path img, long offset) {
        ProcessResult r = ExternalTool.run(Duration.ofMinutes(1), List.of("env", "MTOOLS_SKIP_CHECK=1", "mtype", "-i",
                img + "@@" + offset, "::/cmdline.txt"), null);
        assertThat(r.exitCode()).as("the firmware reads cmdline.txt from %s\n%s", img, r.output()).isZero();
        return piKernelArguments(Map.of("cmdline.txt", r.stdout().getBytes(StandardCharsets.US_ASCII)));
    }

    /** Every file of a card's boot partition, copied out with mtools (the card must be powered off). */
    static Map<String, byte[]> bootFiles(Path img, long offset, Path dest) throws IOException {
        Files.createDirectories(dest);
        ProcessResult r = ExternalTool.run(Duration.ofMinutes(2), List.of("env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-s",
                "-n", "-i", img + "@@" + offset, "::/", dest + "/"), null);
        assertThat(r.exitCode()).as("mcopy from %s\n%s", img, r.output()).isZero();
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dest)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                out.put(dest.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    /** The base card of a stand-in: its boot files as the distribution ships them, the mirror's key. */
    static StandInImage.Image raspiosBase(Path dir, Path rootfs, String mirrorKey) throws IOException {
        return raspiosBase(dir, rootfs, mirrorKey, Map.of());
    }

    /** Like the above, with more files on the root file system (path from / to content). */
    static StandInImage.Image raspiosBase(Path dir, Path rootfs, String mirrorKey, Map<String, String> moreRootFiles)
            throws IOException {
        Map<String, byte[]> boot = new TreeMap<>();
        boot.put("cmdline.txt", ("console=serial0,115200 console=tty1 " + DebianRootfs.Layout.RASPIOS.rootArgument
                + " rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n")
                .getBytes(StandardCharsets.US_ASCII));
        boot.put("config.txt", "[all]\narm_64bit=1\nauto_initramfs=1\ndtparam=audio=on\n".getBytes(StandardCharsets.US_ASCII));
        boot.put("issue.txt", "Raspberry Pi reference (rehearsal stand-in)\n".getBytes(StandardCharsets.US_ASCII));
        // pi-gen puts default NoCloud files on bootfs; the node's must replace them.
        boot.put("user-data", "#cloud-config\nhostname: raspberrypi\n".getBytes(StandardCharsets.US_ASCII));
        boot.put("meta-data", "instance-id: rpios-image\n".getBytes(StandardCharsets.US_ASCII));
        boot.put("network-config", "network:\n  version: 2\n".getBytes(StandardCharsets.US_ASCII));
        Map<String, String> rootFiles = new TreeMap<>(StandInBases.REPORT_HOOK);
        rootFiles.put(StandInBases.MIRROR_KEY_PATH, mirrorKey);
        rootFiles.putAll(moreRootFiles);
        return StandInImage.build(dir, DebianRootfs.Layout.RASPIOS, rootfs, boot, rootFiles);
    }

    /**
     * The base card of the Ubuntu stand-in ({@link StandInBases#UBUNTU_STANDIN}): system-boot's files as
     * Ubuntu Server 24.04's raspi image has them (its cmdline.txt, its default NoCloud files, meta-data
     * with the underscore cloud-init ignores), the mirror's key and {@code moreRootFiles}.
     */
    static StandInImage.Image ubuntuBase(Path dir, Path rootfs, String mirrorKey, Map<String, String> moreRootFiles)
            throws IOException {
        Map<String, byte[]> boot = new TreeMap<>();
        boot.put("cmdline.txt", ("console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 "
                + DebianRootfs.Layout.UBUNTU_RASPI.rootArgument + " rootfstype=ext4 rootwait fixrtc quiet splash\n")
                .getBytes(StandardCharsets.US_ASCII));
        boot.put("config.txt", "[all]\nkernel=vmlinuz\ncmdline=cmdline.txt\ninitramfs initrd.img followkernel\n"
                .getBytes(StandardCharsets.US_ASCII));
        boot.put("user-data", "#cloud-config\nchpasswd:\n  expire: true\n  users:\n  - name: ubuntu\n    password: ubuntu\n"
                .getBytes(StandardCharsets.US_ASCII));
        boot.put("meta-data", "instance_id: cloud-image\n".getBytes(StandardCharsets.US_ASCII));
        boot.put("network-config", "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      optional: true\n"
                .getBytes(StandardCharsets.US_ASCII));
        Map<String, String> rootFiles = new TreeMap<>(StandInBases.REPORT_HOOK);
        rootFiles.put(StandInBases.MIRROR_KEY_PATH, mirrorKey);
        rootFiles.putAll(moreRootFiles);
        return StandInImage.build(dir, DebianRootfs.Layout.UBUNTU_RASPI, rootfs, boot, rootFiles);
    }

    /**
     * Root files that make a stand-in base trust the rehearsal's pkgs.k8s.io: the test CA (in the bundle,
     * under the hashed name OpenSSL looks up, and where update-ca-certificates rebuilds the bundle from),
     * and the home side's DNS answer for pkgs.k8s.io at {@code address} (the gateway's dnsmasq, which
     * forwards the cluster's queries, reads it like the internet's answer).
     */
    static Map<String, String> trustPkgsK8sIo(Path rootfs, KubernetesStandInRepo pkgs, String address)
            throws IOException {
        String bundle = Files.readString(rootfs.resolve("etc/ssl/certs/ca-certificates.crt"));
        Map<String, String> rootFiles = new TreeMap<>();
        rootFiles.put("/etc/ssl/certs/ca-certificates.crt", bundle + pkgs.caPem());
        rootFiles.put("/etc/ssl/certs/" + pkgs.caHashName(), pkgs.caPem());
        rootFiles.put("/usr/local/share/ca-certificates/piimage-rehearsal-test-ca.crt", pkgs.caPem());
        rootFiles.put("/etc/dnsmasq.d/rehearsal-internet-dns.conf", "# Rehearsal test hook (not part of any real card):"
                + " the stand-in internet's DNS.\naddress=/" + KubernetesStandInRepo.HOST + "/" + address + "\n");
        return rootFiles;
    }

    /**
     * The private sections of every key in the secrets directory, the bootstrap token and the VRRP
     * password: none of them may stay on a boot partition after the first boot.
     */
    static Map<String, List<String>> privateKeysAndTokens(Path secretsDir) throws IOException {
        Map<String, List<String>> secrets = new TreeMap<>();
        try (Stream<Path> files = Files.walk(secretsDir)) {
            for (Path key : files.filter(f -> Files.isRegularFile(f) && f.toString().endsWith(".key")
                    || f.getFileName().toString().endsWith("_key")).toList()) {
                List<String> body = Files.readAllLines(key).stream().filter(l -> !l.startsWith("-----") && l.length() > 40)
                        .toList();
                if (!body.isEmpty()) {
                    secrets.put(secretsDir.relativize(key).toString(), body.subList(body.size() / 2, body.size() / 2 + 1));
                }
            }
        }
        for (String name : List.of("bootstrap-token", "vrrp-password")) {
            Path file = secretsDir.resolve(name);
            if (Files.isRegularFile(file)) {
                secrets.put(name, List.of(Files.readString(file).strip()));
            }
        }
        assertThat(secrets).as("secrets in %s", secretsDir).containsKey("bootstrap-token").hasSizeGreaterThan(5);
        return secrets;
    }

    /** The consoles of the VMs whose name {@code name} accepts, in the order they were started. */
    static String consoles(List<QemuVm> vms, Predicate<String> name) throws IOException {
        StringBuilder text = new StringBuilder();
        for (QemuVm vm : vms) {
            if (name.test(vm.name())) {
                text.append(vm.console());
            }
        }
        return text.toString();
    }

    private static final Pattern VRRP_STATE = Pattern.compile("_ENDPOINT\\) Entering (MASTER|BACKUP|FAULT) STATE");

    static String lastVrrpState(String console) {
        Matcher m = VRRP_STATE.matcher(console);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    /**
     * A user-network option forwarding the guest's TCP connections to {@code address:port} on the home
     * side to {@code localPort} on this machine's 127.0.0.1 (a server the test runs).
     */
    static String guestForward(String address, int port, int localPort) {
        return ",guestfwd=tcp:" + address + ":" + port + "-cmd:socat - TCP:127.0.0.1:" + localPort;
    }

    /** Fails at the first console showing a line that {@code fatal} matches: that node cannot finish. */
    static void assertNoneStuck(Map<String, QemuVm> vms, Pattern fatal, Path consoles) throws IOException {
        for (Map.Entry<String, QemuVm> e : vms.entrySet()) {
            Matcher line = fatal.matcher(e.getValue().console());
            if (line.find()) {
                fail(e.getKey() + " cannot finish: console says \""
                        + line.group().strip() + "\" (console in " + consoles + ")");
            }
        }
    }

    /** Each node's report (see {@link #report}): no unit in failed state, {@code systemd-analyze verify} clean. */
    static void assertUnitsHealthy(Map<String, QemuVm> vms) throws IOException, InterruptedException {
        for (Map.Entry<String, QemuVm> e : vms.entrySet()) {
            String report = report(e.getValue(), Duration.ofMinutes(5));
            System.out.println(report);
            assertThat(report).as("%s: units in failed state", e.getKey()).doesNotContain("rehearsal-failed:");
            assertThat(report).as("%s: systemd-analyze verify of our units", e.getKey())
                    .contains("rehearsal-verify-exit: 0").doesNotContain("rehearsal-cycle:");
        }
    }

    /** The test hook's report (StandInBases.REPORT_SCRIPT) from a console, the last one printed. */
    static String report(QemuVm vm, Duration timeout) throws IOException, InterruptedException {
        Matcher end = vm.awaitConsole("rehearsal-report: end", timeout);
        String console = vm.console();
        int begin = console.lastIndexOf("rehearsal-report: begin", end.start());
        return console.substring(begin, end.end());
    }
}
