package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One x86-64 virtual machine under QEMU's software emulation (TCG: KVM does not boot guests on these
 * machines), booting a disk image with a kernel and initrd given from outside, its serial console in a
 * file the test reads, and a QMP socket to press the power button or pull the plug.
 *
 * <p>Networking: none beyond this machine. {@link #lan()} gives a virtual Ethernet cable between two
 * VMs, carried over a TCP connection on 127.0.0.1; {@link Nic#switchPort} plugs any number of VMs into a
 * {@link VirtualSwitch}; {@link Nic#usbUplink} is a USB adapter on QEMU's user network with
 * {@code restrict=on}. Each NIC's frames are captured to {@code <name>-<label>.pcap} beside the console log.
 */
public final class QemuVm implements AutoCloseable {

    /** A cable between two VMs: one end listens on a loopback port, the other connects to it. */
    public record Lan(int port) {
    }

    private final String name;
    private final Path console;
    private final Path qmpSocket;
    private final Process process;

    private QemuVm(String name, Path console, Path qmpSocket, Process process) {
        this.name = name;
        this.console = console;
        this.qmpSocket = qmpSocket;
        this.process = process;
    }

    public static Lan lan() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return new Lan(probe.getLocalPort());
        }
    }

    /**
     * One network card: a QEMU netdev ({@code netdev}: its type and options, without id), the device
     * that plugs it in ({@code device}: driver and options, without netdev), and any controller the
     * device needs first ({@code controllers}). Its frames are captured to {@code <vm>-<label>.pcap}.
     */
    public record Nic(String label, String netdev, String device, List<String> controllers, List<String> sameWire) {
        public Nic {
            controllers = List.copyOf(controllers);
            sameWire = List.copyOf(sameWire);
        }

        public Nic(String label, String netdev, String device, List<String> controllers) {
            this(label, netdev, device, controllers, List.of());
        }

        /** The VM's end of a point-to-point {@link Lan}. */
        public static Nic cable(Lan lan, boolean listen, String mac) {
            return new Nic("lan", "socket," + (listen ? "listen=" : "connect=") + "127.0.0.1:" + lan.port(),
                    "virtio-net-pci,mac=" + mac, List.of());
        }

        /**
         * A built-in Ethernet port plugged into {@code hub}. Create it once per VM and reuse it when the VM
         * is started again, so it comes back on the same hub port.
         */
        public static Nic switchPort(VirtualSwitch hub, String mac) throws IOException {
            return new Nic("lan", "socket,udp=127.0.0.1:" + hub.port() + ",localaddr=127.0.0.1:" + hub.attach(),
                    "virtio-net-pci,mac=" + mac, List.of());
        }

        /**
         * A USB Ethernet adapter (QEMU's usb-net: CDC Ethernet, as many real adapters are) on an xHCI
         * controller, so udev sees a USB network device. It is connected to QEMU's user-mode network with
         * {@code restrict=on}: its DHCP answers, nothing leaves this machine, and {@code guestfwd} may
         * make chosen addresses reach services on the host's 127.0.0.1. A MAC without the
         * locally-administered bit makes the kernel call it ethN, as it does real adapters (usbnet names
         * point-to-point devices with that bit usbN).
         */
        public static Nic usbUplink(String userOptions, String mac) {
            return new Nic("uplink", "user,restrict=on" + (userOptions.isEmpty() ? "" : "," + userOptions),
                    "usb-net,bus=xhci.0,mac=" + mac, List.of("qemu-xhci,id=xhci"));
        }

        /**
         * Like {@link #usbUplink(String, String)}, on a home LAN that also has {@code home}'s hosts (e.g.
         * a {@link LanTimeServer}): QEMU's user network and a port of {@code home} share the wire. Create
         * it once per VM and reuse it when the VM is started again.
         */
        public static Nic usbUplink(String userOptions, String mac, VirtualSwitch home) throws IOException {
            Nic alone = usbUplink(userOptions, mac);
            return new Nic(alone.label(), alone.netdev(), alone.device(), alone.controllers(),
                    List.of(switchPort(home, mac).netdev()));
        }
    }

    /**
     * What to boot: {@code rebootable} lets a reboot inside the guest (or {@link #reset()}) restart it, as on
     * a Pi; otherwise QEMU exits when the guest reboots.
     */
    public record Spec(String name, Path workDir, Path kernel, Path initrd, String append, Path disk, List<Nic> nics,
                       boolean rebootable, int memoryMib) {
        public Spec {
            nics = List.copyOf(nics);
        }
    }

    /**
     * Boots {@code disk} (raw, virtio; written to by the guest). {@code listen}: this VM is the end of
     * {@code lan} that waits for the other; {@code mac} tells the two NICs apart.
     */
    public static QemuVm boot(String name, Path workDir, Path kernel, Path initrd, String append, Path disk,
                              Lan lan, boolean listen, String mac) throws IOException, InterruptedException {
        return boot(name, workDir, kernel, initrd, append, disk, lan, listen, mac, List.of());
    }

    /** Like the above, with more QEMU arguments after the LAN's (e.g. a second NIC: it comes after eth0). */
    public static QemuVm boot(String name, Path workDir, Path kernel, Path initrd, String append, Path disk,
                              Lan lan, boolean listen, String mac, List<String> extraArgs)
            throws IOException, InterruptedException {
        return start(new Spec(name, workDir, kernel, initrd, append, disk,
                lan == null ? List.of() : List.of(Nic.cable(lan, listen, mac)), false, 1024), extraArgs);
    }

    /** Boots one VM on one vCPU; its console goes to {@code <name>-console.log} (a new file per start). */
    public static QemuVm start(Spec spec) throws IOException, InterruptedException {
        return start(spec, List.of());
    }

    /** Like {@link #start(Spec)}, with more QEMU arguments after the NICs'. */
    public static QemuVm start(Spec spec, List<String> extraArgs) throws IOException, InterruptedException {
        Path qemu = ExternalTool.require("qemu-system-x86_64");
        String name = spec.name();
        Path workDir = spec.workDir();
        Path console = workDir.resolve(name + "-console.log");
        Path qmp = workDir.resolve(name + ".qmp");
        // qemu64, not max: under TCG the guest then keeps to baseline x86-64 code instead of AVX2, SHA and
        // AES instructions that TCG emulates slowly. Booted in a trixie stand-in, one VM on an idle
        // machine: dpkg-deb -x of containerd 6.8 s against 9.1-9.6 s, sha256sum 1.6 s against 2.2 s.
        // -svm: qemu64 is an AMD model with SVM, so Debian's kernel loaded kvm_amd at boot; once, on a
        // 2-vCPU guest, the kernel took a double fault in the 0.3 s after kvm_amd began loading and
        // panicked ("Modules linked in: kvm_amd(+)"). A Pi loads no x86 hypervisor module.
        List<String> cmd = new ArrayList<>(List.of(qemu.toString(),
                "-accel", "tcg,thread=multi", "-cpu", "qemu64,-svm", "-machine", "q35", "-m", String.valueOf(spec.memoryMib()),
                "-smp", "1", "-nographic", "-monitor", "none", "-display", "none",
                "-kernel", spec.kernel().toString(), "-initrd", spec.initrd().toString(), "-append", spec.append(),
                // discard=unmap: a trim really frees the blocks (reads give zeros), as on an SD card that supports it.
                "-drive", "file=" + spec.disk() + ",format=raw,if=virtio,discard=unmap",
                "-serial", "file:" + console,
                "-qmp", "unix:" + qmp + ",server=on,wait=off"));
        if (!spec.rebootable()) {
            cmd.add("-no-reboot");
        }
        if (spec.nics().isEmpty()) {
            cmd.addAll(List.of("-nic", "none"));
        }
        int n = 0;
        for (Nic nic : spec.nics()) {
            String id = "net" + n++;
            for (String controller : nic.controllers()) {
                cmd.addAll(List.of("-device", controller));
            }
            if (nic.sameWire().isEmpty()) {
                cmd.addAll(List.of("-netdev", nic.netdev() + ",id=" + id));
            } else {
                // One QEMU hub per such NIC: the device's port, and one port for each netdev on the wire.
                cmd.addAll(List.of("-netdev", "hubport,id=" + id + ",hubid=" + n));
                List<String> wire = new ArrayList<>(List.of(nic.netdev()));
                wire.addAll(nic.sameWire());
                for (int k = 0; k < wire.size(); k++) {
                    cmd.addAll(List.of("-netdev", wire.get(k) + ",id=" + id + "w" + k,
                            "-netdev", "hubport,id=" + id + "p" + k + ",hubid=" + n + ",netdev=" + id + "w" + k));
                }
            }
            cmd.addAll(List.of("-device", nic.device() + ",netdev=" + id,
                    // Every frame on the wire, for the post-mortem of a failed test.
                    "-object", "filter-dump,id=capture-" + id + ",netdev=" + id + ",file="
                            + workDir.resolve(name + "-" + nic.label() + ".pcap")));
        }
        Files.deleteIfExists(qmp);
        cmd.addAll(extraArgs);
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(workDir.resolve(name + "-qemu.log").toFile()).start();
        QemuVm vm = new QemuVm(name, console, qmp, process);
        vm.awaitQmpSocket();
        return vm;
    }

    /** Presses the reset button: the guest restarts at once, without shutting down (needs rebootable). */
    public void reset() throws IOException {
        qmp("system_reset");
    }

    public boolean running() {
        return process.isAlive();
    }

    public String name() {
        return name;
    }

    public Path consoleLog() {
        return console;
    }

    /** Everything the guest printed on its serial console so far. */
    public String console() throws IOException {
        return Files.exists(console) ? new String(Files.readAllBytes(console), StandardCharsets.UTF_8) : "";
    }

    /** Waits for a console line matching {@code regex}; fails with the console's tail if it never comes. */
    public Matcher awaitConsole(String regex, Duration timeout) throws IOException, InterruptedException {
        return awaitConsole(Pattern.compile(regex), 0, timeout);
    }

    /** Like {@link #awaitConsole(String, Duration)}, looking only after character {@code from}. */
    public Matcher awaitConsole(Pattern pattern, int from, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String text = console();
            Matcher m = pattern.matcher(text);
            if (from <= text.length() && m.find(from)) {
                return m;
            }
            if (!process.isAlive()) {
                fail(name + ": QEMU exited (" + process.exitValue() + ") before the console showed /" + pattern
                        + "/\n" + tail(text) + "\nqemu: " + qemuLog());
            }
            if (System.nanoTime() > deadline) {
                fail(name + ": no console line matching /" + pattern + "/ within " + timeout + "\n" + tail(text));
            }
            Thread.sleep(500);
        }
    }

    /** Presses the power button (ACPI) and waits for the guest to shut down and QEMU to exit. */
    public void powerOff(Duration timeout) throws IOException, InterruptedException {
        qmp("system_powerdown");
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail(name + ": still running " + timeout + " after the power button\n" + tail(console()));
        }
    }

    /** Pulls the plug: the guest gets no chance to do anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }

    private void awaitQmpSocket() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(qmpSocket)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                close();
                fail(name + ": QEMU did not start: " + qemuLog());
            }
            Thread.sleep(100);
        }
    }

    private void qmp(String command) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(qmpSocket));
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                    StandardCharsets.UTF_8));
            OutputStream out = Channels.newOutputStream(channel);
            in.readLine(); // the greeting
            for (String execute : List.of("qmp_capabilities", command)) {
                out.write(("{\"execute\":\"" + execute + "\"}\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                String reply;
                do {
                    reply = Optional.ofNullable(in.readLine()).orElse("");
                } while (reply.contains("\"event\"") && !reply.contains("\"return\"")); // events come unasked
                if (!reply.contains("\"return\"")) {
                    fail(name + ": QMP " + execute + " answered " + reply);
                }
            }
        }
    }

    private String qemuLog() {
        try {
            return Files.readString(console.resolveSibling(name + "-qemu.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static String tail(String console) {
        return ExternalTool.lastLines(console, 60);
    }
}
