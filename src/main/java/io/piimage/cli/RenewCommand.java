package io.piimage.cli;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ClusterAccess;
import io.piimage.pki.ClusterSecrets;
import io.piimage.pki.SecretsException;
import io.piimage.pki.SecretsStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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

    @Parameters(index = "0", paramLabel = "PLAN", description = "The cluster plan (piimage/v1 YAML) that was baked.")
    Path plan;

    @Option(names = "--secrets", paramLabel = "DIR",
            description = "The secrets directory (default: <plan name>.secrets beside the plan).")
    Path secrets;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "The bake output whose admin.conf is rewritten (default: out/<cluster>, as bake writes it).")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The time the new certificates start from (a test sets another). */
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterOptions options = new ClusterOptions();
        options.plan = plan;
        options.secrets = secrets;
        ClusterAccess access = StatusCommand.open(options, err);
        if (access == null) {
            return Main.INVALID_INPUT;
        }
        Path dir = access.secretsDir();
        if (!SecretsStore.exists(dir)) {
            err.println("piimage: error: no secrets in " + dir + ": bake the plan first (or pass --secrets DIR)");
            return Main.INVALID_INPUT;
        }
        List<String> changes;
        try {
            ClusterSecrets before = SecretsStore.load(dir, access.plan().cluster().keyAlgorithm());
            ClusterSecrets after = before.withLeavesReissued(clock.instant(), new SecureRandom());
            changes = SecretsStore.update(dir, before, after);
        } catch (SecretsException e) {
            err.println("piimage: error: secrets " + dir + ": " + e.getMessage());
            return Main.INVALID_INPUT;
        } catch (IOException e) {
            err.println("piimage: error: cannot write " + dir + ": " + e.getMessage()
                    + " (each certificate is replaced whole; the next load finishes or undoes one cut off midway)");
            return Main.INVALID_INPUT;
        }
        changes.forEach(change -> out.println("secrets " + dir + ": " + change));
        Path adminConf = (output != null ? output : Bake.defaultOutput(access.plan())).resolve("admin.conf");
        if (Files.isDirectory(adminConf.getParent())) {
            try {
                writePrivate(adminConf, access.adminKubeconfig());
                out.println("wrote " + adminConf + " with the new admin certificate (copy it where you keep kubeconfigs)");
            } catch (IOException | BakeException e) {
                err.println("piimage: error: cannot write " + adminConf + ": " + e.getMessage()
                        + "; the secrets are renewed: piimage kubeconfig PLAN -o FILE writes it");
                return Main.INVALID_INPUT;
            }
        } else {
            out.println("no bake output at " + adminConf.getParent() + ": piimage kubeconfig PLAN -o FILE writes the new admin.conf");
        }
        out.flush();
        return Main.OK;
    }

    /** Written to a private temporary sibling, then renamed over the old file: never half-written. */
    private static void writePrivate(Path file, String text) throws IOException {
        Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temp, text, StandardOpenOption.TRUNCATE_EXISTING);
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
