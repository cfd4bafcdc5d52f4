package io.piimage.cli;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeEvent;
import io.piimage.pipeline.BakeException;
import io.piimage.pipeline.ImagerIntegration;
import io.piimage.pipeline.BakeTarget;
import io.piimage.pipeline.Compression;
import io.piimage.plan.InvalidPlanException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;

@Command(
        name = "bake",
        mixinStandardHelpOptions = true,
        description = {
            "Bakes the plan into one set of cloud-init seed files per node (user-data, meta-data,",
            "network-config: copy them onto the card's boot partition) and the operator's admin.conf.",
            "The cluster's certificates and keys are created on the first bake and reused afterwards."},
        footer = {"", "Examples:",
            "  piimage bake examples/makina.yaml                 # -> out/makina/",
            "  piimage bake plan.yaml -o cards.tar.gz           # one archive instead of a directory",
            "  piimage bake plan.yaml --secrets /safe/place/makina.secrets --init-secrets   # first bake",
            "  piimage bake plan.yaml --secrets /safe/place/makina.secrets                  # later bakes",
            "  piimage bake plan.yaml --base-image ubuntu-24.04.3-preinstalled-server-arm64+raspi.img.xz --compress xz",
            "", "Exit codes: 0 baked; 1 invalid plan, refused paths or failed bake (nothing written, unless the",
            "message says what was); 2 usage error."})
final class BakeCommand implements Callable<Integer> {

    @Mixin
    PlanArgument plan;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR|FILE",
            description = "Where to write: a directory (default ./out/<cluster name>), or a .tar.gz/.tgz/.zip file.")
    Path output;

    @Option(names = "--secrets", paramLabel = "DIR",
            description = {"The secrets directory (default: <plan name>.secrets beside the plan, created on the first bake).",
                "Back it up. A DIR given here must hold the cluster's secrets, unless --init-secrets."})
    Path secrets;

    @Option(names = "--init-secrets",
            description = {"Create a new cluster's secrets in the --secrets DIR if it does not exist or is empty.",
                "Without it such a DIR is refused, so a mistyped path cannot start a new CA.",
                "(The default secrets directory needs no flag.)"})
    boolean initSecrets;

    @Option(names = "--restore-from", paramLabel = "FILE",
            description = {"An etcd snapshot (piimage snapshot) for the first control plane's card: it restores it",
                "before kubeadm init, so the cluster starts from it; the others join as usual."})
    Path restoreFrom;

    @Option(names = "--templates", paramLabel = "DIR",
            description = "A directory whose cloud-init/ and overlays/ templates override the packaged ones.")
    Path templates;

    @Option(names = "--base-image", paramLabel = "FILE",
            description = {"Also write DIR/<node>.img per node: this Raspberry Pi image (.img, .img.xz, .img.gz or a .zip",
                "with one .img) with the node's seed files on its boot partition, and DIR/<cluster>.rpi-imager-manifest.",
                ".xz needs the xz command (xz-utils)."})
    Path baseImage;

    @Option(names = "--compress", paramLabel = "none|xz|gz", defaultValue = "none",
            description = "Compress the node images: none (default), xz (xz -T0, needs xz-utils) or gz.")
    String compress;

    @Option(names = "--image-profile", paramLabel = "NAME",
            description = "The base image's profile (ubuntu-24.04, raspios-trixie) instead of recognising it by its boot partition label.")
    String imageProfile;

    @Option(names = {"-q", "--quiet"}, description = "Print only warnings and errors.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InvalidPlanException, BakeException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        plan.requireReadable();
        if (baseImage == null && (!compress.equalsIgnoreCase("none") || imageProfile != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--compress and --image-profile need --base-image");
        }
        BakeTarget target;
        try {
            target = baseImage == null ? BakeTarget.at(output) : BakeTarget.nodeImages(output, baseImage, compression(), imageProfile);
        } catch (IllegalArgumentException e) {
            throw new BakeException(e.getMessage(), e); // the front door adds "nothing was written"
        }
        // Making RSA keys and hashing whole card images want C2 (FullJitRerun); nothing has been said or
        // written yet, so the child's output is all the user sees.
        java.util.Optional<Integer> rerun = FullJitRerun.ifQuick(baseImage != null || restoreFrom != null
                || Bake.makesNewSecrets(plan.file(), secrets, initSecrets));
        if (rerun.isPresent()) {
            return rerun.get();
        }
        ProgressBar bar = baseImage != null && !quiet && System.console() != null ? new ProgressBar(System.err) : null;
        Bake.Result result = Bake.builder(plan.file())
                .target(target)
                .secretsDir(secrets)
                .initSecrets(initSecrets)
                .restoreFrom(restoreFrom)
                .templatesDir(templates)
                .events(event -> {
                    if (bar != null) {
                        bar.event(event);
                    }
                    report(event, out, err);
                })
                .build()
                .run();
        if (!quiet) {
            out.printf("baked %d node(s) of cluster %s into %s%n", result.cards().size(),
                    result.plan().cluster().name(), result.output());
            out.printf("next: copy each node's user-data, meta-data and network-config onto its card's boot partition;%n"
                    + "      then: kubectl --kubeconfig %s get nodes%n", result.output().resolve("admin.conf"));
            if (target instanceof BakeTarget.NodeImages images) {
                out.printf("node images: %s/<node>.img%s; flash one per card, or open %s in Raspberry Pi Imager%n",
                        result.output(), images.compression().suffix(),
                        result.output().resolve(result.plan().cluster().name() + ".rpi-imager-manifest"));
            } else if (Files.isDirectory(result.output())) {
                printImagerLines(result, out);
            }
        }
        return Main.OK;
    }

    private Compression compression() {
        try {
            return Compression.parse(compress);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** Without a base image, each card is a base image plus its seed: Raspberry Pi Imager writes both. */
    private static void printImagerLines(Bake.Result result, PrintWriter out) {
        out.println("or flash and seed each card with Raspberry Pi Imager 2.x (IMAGE: the node's base image, .img/.img.xz;"
                + " DEVICE: the card, e.g. /dev/sdX):");
        for (ImagerIntegration.CliLine line : ImagerIntegration.cliLines(result.plan(), result.output())) {
            out.printf("  %-16s %s   # %s%n", line.node().name() + ":", line.command(), line.profile());
        }
    }

    private void report(BakeEvent event, PrintWriter out, PrintWriter err) {
        if (event instanceof BakeEvent.PlanLoaded loaded) {
            plan.printWarnings(loaded.warnings());
        } else if (event instanceof BakeEvent.SecretsCreated created) {
            // Said even with -q: a new CA where one was expected (a mistyped path) must not pass unseen.
            err.println("piimage: created the cluster's secrets (a new CA) in " + created.directory()
                    + "; back this directory up: every later bake and every node needs it");
        } else if (event instanceof BakeEvent.LeftoversFound found) {
            found.removed().forEach(p -> err.println("piimage: removed " + p + ", left by an interrupted bake"));
            found.unknown().forEach(p -> err.println("piimage: warning: " + p + " looks like a temporary file of an "
                    + "interrupted bake, but names no process; remove it by hand if no bake is running (it may hold secrets)"));
        } else if (event instanceof BakeEvent.SecretsUpdated updated) {
            // Said even with -q, like a new CA: the secrets directory changed and wants a fresh backup.
            updated.changes().forEach(change -> err.println("piimage: secrets " + updated.directory() + ": " + change));
        } else if (event instanceof BakeEvent.SecretsExpiring expiring) {
            expiring.warnings().forEach(warning -> err.println("piimage: warning: secrets " + expiring.directory() + ": " + warning));
        } else if (event instanceof BakeEvent.SecretsReused reused) {
            reused.permissionProblems().forEach(problem -> err.println("piimage: warning: " + problem));
        } else if (event instanceof BakeEvent.NodeRendered rendered && !quiet) {
            out.printf("  %-16s %-14s %d files%n", rendered.node().name(), rendered.node().role(), rendered.files());
        } else if (event instanceof BakeEvent.BaseImageDecompressed d && !quiet) {
            out.printf("decompressed %s (%d MiB) in %.1f s%n", d.source(), d.bytes() >> 20, d.millis() / 1000.0);
        } else if (event instanceof BakeEvent.BaseImageRecognised r && !quiet) {
            out.printf("base image %s: %s (%s)%n", r.source(), r.profile(), r.how());
        } else if (event instanceof BakeEvent.ImageWritten w && !quiet) {
            out.printf("  %-16s %s (%d MiB) in %.1f s%n", w.node().name() + ".img", w.file().getFileName(),
                    w.bytes() >> 20, w.millis() / 1000.0);
        }
    }
}
