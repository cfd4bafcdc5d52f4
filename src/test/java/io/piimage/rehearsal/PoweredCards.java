package io.piimage.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.QemuVm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The cards of a rehearsal scenario, powered on as Pis: each boot's kernel arguments are read from the
 * card's cmdline.txt as the firmware would read them, QEMU runs with -no-reboot and a reboot is a new
 * power-on, and every boot's VM is kept for its console.
 */
final class PoweredCards implements AutoCloseable {

    /** A per-round hook of the wait (e.g. a fault injection); it may power a node off and on again. */
    interface Round {
        void run() throws IOException, InterruptedException;
    }

    private final Path tmp;
    private final Path kernel;
    private final Path initrd;
    private final long bootOffset;
    private final Consumer<String> log;
    final Map<String, Path> cards = new TreeMap<>();
    final Map<String, List<QemuVm.Nic>> nics = new LinkedHashMap<>();
    final Map<String, Integer> boots = new TreeMap<>();
    /** The kernel arguments of each node's latest power-on. */
    final Map<String, String> lastArguments = new TreeMap<>();
    /** Each node's current VM. */
    final Map<String, QemuVm> vms = new LinkedHashMap<>();
    private final List<QemuVm> all = new ArrayList<>();

    PoweredCards(Path tmp, Path kernel, Path initrd, long bootOffset, Consumer<String> log) {
        this.tmp = tmp;
        this.kernel = kernel;
        this.initrd = initrd;
        this.bootOffset = bootOffset;
        this.log = log;
    }

    /** Powers {@code node} on: kernel arguments from its cmdline.txt as it is now; a control plane gets two CPUs. */
    QemuVm powerOn(String node) throws IOException, InterruptedException {
        int boot = boots.merge(node, 1, Integer::sum);
        boolean controlPlane = node.startsWith("cp");
        lastArguments.put(node, Rehearsal.piKernelArgumentsNow(cards.get(node), bootOffset));
        QemuVm vm = QemuVm.start(new QemuVm.Spec(node + "-boot" + boot, tmp, kernel, initrd, lastArguments.get(node),
                cards.get(node), nics.get(node), false, controlPlane ? 2048 : 1024),
                // kubeadm's preflight wants two CPUs on a control plane (a Pi has four).
                controlPlane ? List.of("-smp", "2") : List.of());
        all.add(vm);
        vms.put(node, vm);
        return vm;
    }

    /** Powers every node on in a shuffled order with delays ({@link Rehearsal#powerOnOrder}). */
    void powerOnAll(long seed) throws IOException, InterruptedException {
        List<String> order = Rehearsal.powerOnOrder(nics.keySet(), seed);
        log.accept("power-on order " + order + " (seed " + seed + ", -Drehearsal.seed= repeats it)");
        for (String node : order) {
            powerOn(node);
            log.accept("powered on " + node + ": " + lastArguments.get(node));
            Thread.sleep(Rehearsal.powerOnDelayMillis(seed, node));
        }
    }

    /**
     * Waits until every node's first boot says "all phases done", powering rebooted nodes on again,
     * running {@code round} once a second; fails at a {@code fatal} console line or after {@code limit}.
     */
    void awaitAllDone(Duration limit, Pattern fatal, Round round) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        List<String> waiting = new ArrayList<>(vms.keySet());
        while (!waiting.isEmpty()) {
            round.run();
            for (String node : List.copyOf(waiting)) {
                QemuVm vm = vms.get(node);
                if (vm.console().contains("piimage-firstboot[" + node + "]: all phases done")) {
                    waiting.remove(node);
                    log.accept(node + " done");
                } else if (!vm.running()) {
                    // A reboot: QEMU runs with -no-reboot, and the "firmware" reads cmdline.txt again.
                    assertThat(vm.console()).as("%s: QEMU exited without a reboot; console in %s", node, tmp)
                            .contains("reboot: Restarting system");
                    powerOn(node);
                    log.accept(node + " rebooted: " + lastArguments.get(node));
                }
            }
            Rehearsal.assertNoneStuck(vms, fatal, tmp);
            assertThat(System.nanoTime()).as("%s not done within %s; consoles in %s", waiting, limit, tmp)
                    .isLessThan(deadline);
            Thread.sleep(1_000);
        }
    }

    /** Each node's consoles of all its boots, in order. */
    Map<String, String> consoles() throws IOException {
        Map<String, String> consoles = new TreeMap<>();
        for (String node : vms.keySet()) {
            consoles.put(node, Rehearsal.consoles(all, name -> name.startsWith(node + "-boot")));
        }
        return consoles;
    }

    void powerOffAll() throws IOException, InterruptedException {
        for (QemuVm vm : vms.values()) {
            vm.powerOff(Duration.ofMinutes(5));
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (QemuVm vm : all) {
            vm.close();
        }
    }
}
