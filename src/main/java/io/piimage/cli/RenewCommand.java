package io.piimage.cli;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.pki.ClusterSecrets;
import io.piimage.pki.SecretsException;
import io.piimage.pki.SecretsStore;
import io.piimage.plan.InvalidPlanException;
import io.piimage.util.AtomicWrite;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;

@Command(
        name = "renew",
        mixinStandardHelpOptions = true,
        description = {"Re-issues the operator's certificates now, offline, from the CAs in the secrets directory.",
            "The admin certificate (admin.conf) and the etcd client certificate get new keys and a new year;",
            "the CAs and every node stay as they are. The bake's own output's admin.conf is rewritten",
            "(atomically); whoever holds an older admin.conf keeps access until its certificate ends.",
            "bake does this by itself for certificates within 90 days of their end."},
        footer = {"", "Examples:",
            "  piimage renew examples/makina.yaml",
            "  piimage renew plan.yaml --secrets /media/usb/makina.secrets",
            "", "Exit codes: 0 renewed, 1 invalid plan, no secrets, or a file that cannot be written, 2 usage error."})
final class RenewCommand implements Callable<Integer> {

    @Mixin
    ClusterOptions options;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "The bake output whose admin.conf is rewritten (default: out/<cluster>, as bake writes it).")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The time the new certificates start from (a test sets another). */
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() throws InvalidPlanException, IOException {
        java.util.Optional<Integer> rerun = FullJitRerun.ifQuick(true); // it makes two new keys: C2's intrinsics
        if (rerun.isPresent()) {
            return rerun.get();
        }
        PrintWriter out = spec.commandLine().getOut();
        ClusterAccess access = options.open();
        Path dir = access.secretsDir();
        if (!SecretsStore.exists(dir)) {
            throw new Refusal("no secrets in " + dir + ": bake the plan first (or pass --secrets DIR)");
        }
        List<String> changes;
        try {
            ClusterSecrets before = SecretsStore.load(dir, access.plan().cluster().keyAlgorithm());
            ClusterSecrets after = before.withLeavesReissued(clock.instant(), new SecureRandom());
            changes = SecretsStore.update(dir, before, after);
        } catch (SecretsException e) {
            throw new Refusal("secrets " + dir + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new Refusal("cannot write " + dir + ": " + e.getMessage()
                    + " (each certificate is replaced whole; the next load finishes or undoes one cut off midway)", e);
        }
        changes.forEach(change -> out.println("secrets " + dir + ": " + change));
        Path adminConf = (output != null ? output : Bake.defaultOutput(access.plan())).resolve("admin.conf");
        if (Files.isDirectory(adminConf.getParent())) {
            try {
                AtomicWrite.writeString(adminConf, access.adminKubeconfig(), AtomicWrite.PRIVATE); // it grants cluster-admin
                out.println("wrote " + adminConf + " with the new admin certificate (copy it where you keep kubeconfigs)");
            } catch (IOException | BakeException e) {
                throw new Refusal("cannot write " + adminConf + ": " + e.getMessage()
                        + "; the secrets are renewed: piimage kubeconfig PLAN -o FILE writes it", e);
            }
        } else {
            out.println("no bake output at " + adminConf.getParent() + ": piimage kubeconfig PLAN -o FILE writes the new admin.conf");
        }
        out.flush();
        return Main.OK;
    }
}
