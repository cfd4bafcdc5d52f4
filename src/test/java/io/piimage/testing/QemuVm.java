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
 * <p>Networking: none to the host or beyond. {@link #lan()} gives a virtual Ethernet cable between two
 * VMs, carried over a TCP connection on 127.0.0.1; each VM's frames are captured to
 * {@code <name>-lan.pcap} beside its console log.
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
        Path qemu = ExternalTool.require("qemu-system-x86_64");
        Path console = workDir.resolve(name + "-console.log");
        Path qmp = workDir.resolve(name + ".qmp");
        List<String> cmd = new ArrayList<>(List.of(qemu.toString(),
                "-accel", "tcg,thread=multi", "-cpu", "max", "-machine", "q35", "-m", "1024", "-smp", "1",
                "-nographic", "-no-reboot", "-monitor", "none", "-display", "none",
                "-kernel", kernel.toString(), "-initrd", initrd.toString(), "-append", append,
                "-drive", "file=" + disk + ",format=raw,if=virtio",
                "-serial", "file:" + console,
                "-qmp", "unix:" + qmp + ",server=on,wait=off"));
        if (lan == null) {
            cmd.addAll(List.of("-nic", "none"));
        } else {
            String end = (listen ? "listen=" : "connect=") + "127.0.0.1:" + lan.port();
            cmd.addAll(List.of("-netdev", "socket,id=lan," + end, "-device", "virtio-net-pci,netdev=lan,mac=" + mac,
                    // Every frame on the cable, for the post-mortem of a failed test.
                    "-object", "filter-dump,id=capture,netdev=lan,file=" + workDir.resolve(name + "-lan.pcap")));
        }
        cmd.addAll(extraArgs);
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(workDir.resolve(name + "-qemu.log").toFile()).start();
        QemuVm vm = new QemuVm(name, console, qmp, process);
        vm.awaitQmpSocket();
        return vm;
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
