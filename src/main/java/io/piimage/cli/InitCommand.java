package io.piimage.cli;

import io.piimage.image.ImageProfiles;
import io.piimage.pipeline.Init;
import io.piimage.pki.KeyAlgorithm;
import io.piimage.plan.Cidr;
import io.piimage.plan.Ipv4;
import io.piimage.plan.KubernetesVersion;
import io.piimage.plan.LoadBalancerMode;
import io.piimage.plan.PlanFormat;
import io.piimage.plan.StarterPlan;
import io.piimage.util.AtomicWrite;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

@Command(
        name = "init",
        mixinStandardHelpOptions = true,
        description = {"Writes a commented starter plan.",
            "By default the seeds' topology (a gateway Pi, two load balancers holding the VIP, three control",
            "planes, two workers on 192.168.3.0/24), with your ~/.ssh/*.pub keys filled in. The plan passes",
            "'piimage check' once it has a key."},
        footer = {"", "Examples:",
            "  piimage init -o plan.yaml",
            "  piimage init --control-planes 3 --workers 2 --load-balancer dedicated --vip 10.0.0.240 --subnet 10.0.0.0/24 -o plan.yaml",
            "  piimage init --load-balancer stacked --workers 0 --no-gateway-node --name tiny",
            "", "Exit codes: 0 written, 1 impossible choices or the file exists (use --force), 2 usage error",
            "(an unknown option, or a value that does not parse: --load-balancer nginx, --vip 10.0.0.999)."})
final class InitCommand implements Callable<Integer> {

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write the plan (default: standard output).")
    Path output;

    @Option(names = "--force", description = "Overwrite FILE if it exists.")
    boolean force;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "pi-cluster", description = "The cluster's name (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--kubernetes-version", paramLabel = "VERSION", defaultValue = StarterPlan.DEFAULT_KUBERNETES_VERSION,
            description = "\"1.34\" (newest patch at boot) or \"1.34.1\" (default: ${DEFAULT-VALUE}).")
    String kubernetesVersion;

    @Option(names = "--control-planes", paramLabel = "N", defaultValue = "3", description = "Control planes, an odd number (default: ${DEFAULT-VALUE}).")
    int controlPlanes;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2", description = "Workers (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--load-balancer", paramLabel = "MODE", defaultValue = "dedicated",
            description = "dedicated | stacked | vip-only (default: ${DEFAULT-VALUE}).")
    LoadBalancerMode loadBalancer;

    @Option(names = "--load-balancers", paramLabel = "N", description = "Load-balancer nodes (dedicated only; default 2).")
    Integer loadBalancers;

    @Option(names = "--vip", paramLabel = "IP", description = "The endpoint's virtual IP (default: .240 of the subnet).")
    Ipv4 vip;

    @Option(names = "--port", paramLabel = "PORT", description = "The endpoint's port (default 6443; 8443 when stacked).")
    Integer port;

    @Option(names = "--subnet", paramLabel = "CIDR", defaultValue = "192.168.3.0/24", description = "The cluster LAN (default: ${DEFAULT-VALUE}).")
    Cidr subnet;

    @Option(names = "--gateway", paramLabel = "IP", description = "The LAN's router (default: the subnet's first address).")
    Ipv4 gateway;

    @Option(names = "--gateway-node", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Include a gateway Pi that NATs the cluster LAN to the home LAN (default: yes; --no-gateway-node when your router is on the LAN).")
    boolean gatewayNode;

    @Option(names = "--image", paramLabel = "PROFILE", defaultValue = "ubuntu-24.04", description = "Base-image profile (default: ${DEFAULT-VALUE}; see piimage images).")
    String image;

    @Option(names = "--key-algorithm", paramLabel = "ALG", defaultValue = "rsa-2048",
            description = "rsa-2048 | rsa-3072 | rsa-4096 | ecdsa-p256 | ecdsa-p384 (default: ${DEFAULT-VALUE}).")
    KeyAlgorithm keyAlgorithm;

    @Option(names = "--ssh-key", paramLabel = "FILE|KEY",
            description = "A public key, or a file of them; repeatable. Default: every ~/.ssh/*.pub.")
    List<String> sshKeys = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // Option values that do not parse are usage errors (exit 2); choices that cannot work together are
        // invalid input (exit 1).
        List<String> keys = keys();
        if (!ImageProfiles.packaged().names().contains(image)) {
            throw usage("--image " + image + ": no such profile; known: " + ImageProfiles.packaged().names());
        }
        KubernetesVersion version;
        try {
            version = KubernetesVersion.parse(kubernetesVersion);
        } catch (IllegalArgumentException e) {
            throw usage("--kubernetes-version: " + e.getMessage());
        }
        if (!version.known()) {
            // check refuses it, so init must not write it
            throw usage("--kubernetes-version " + version + ": piimage installs 1." + KubernetesVersion.OLDEST_MINOR
                    + " to 1." + KubernetesVersion.NEWEST_MINOR);
        }
        if (!PlanFormat.isName(name)) {
            throw usage("--name '" + name + "' is not a DNS-1123 label (a-z, 0-9, '-', at most 63)");
        }
        String text;
        try {
            text = StarterPlan.render(new StarterPlan.Options(name, kubernetesVersion, controlPlanes, workers,
                    loadBalancer, loadBalancers, vip, port, subnet, gateway, gatewayNode, image, keyAlgorithm, keys));
        } catch (IllegalArgumentException e) {
            throw new Refusal(e.getMessage(), e);
        }
        if (keys.isEmpty()) {
            err.println("piimage: warning: no public SSH key found in ~/.ssh/*.pub: add one under os.sshAuthorizedKeys "
                    + "(check and bake fail until you do), or pass --ssh-key");
        }
        if (output == null) {
            out.print(text);
            out.flush();
            return Main.OK;
        }
        if (Files.exists(output) && !force) {
            throw new Refusal(output + " exists; use --force to overwrite it");
        }
        try {
            AtomicWrite.writeString(output, text);
        } catch (IOException e) {
            throw new Refusal("cannot write " + output + ": " + e.getMessage(), e);
        }
        out.printf("wrote %s (%d SSH key(s)); next: piimage check %s%n", output, keys.size(), output);
        return Main.OK;
    }

    private List<String> keys() {
        if (sshKeys.isEmpty()) {
            return Init.publicKeys(Init.defaultSshDirectory());
        }
        List<String> keys = new ArrayList<>();
        for (String given : sshKeys) {
            if (Init.isPublicKey(given)) {
                keys.add(given.strip());
            } else if (Files.isRegularFile(Path.of(given))) {
                List<String> inFile = Init.keysIn(Path.of(given));
                if (inFile.isEmpty()) {
                    throw usage("--ssh-key " + given + ": no public key in that file");
                }
                keys.addAll(inFile);
            } else if (given.strip().contains(" ")) {
                // Looks like a key line: say what check would say (never echoing it: it may be a private key).
                throw usage("--ssh-key: " + PlanFormat.sshKeyProblem(given));
            } else {
                throw usage("--ssh-key " + given + ": neither a public key nor a file");
            }
        }
        return keys;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
