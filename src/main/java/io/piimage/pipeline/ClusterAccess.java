package io.piimage.pipeline;

import io.piimage.image.ImageProfiles;
import io.piimage.pki.ClusterSecrets;
import io.piimage.pki.Kubeconfig;
import io.piimage.pki.SecretsException;
import io.piimage.pki.SecretsStore;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.LoadedPlan;
import io.piimage.plan.Plan;
import io.piimage.plan.PlanLoader;
import io.piimage.status.AdminKubeconfig;
import io.piimage.status.ClusterProbe;
import io.piimage.status.TlsIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * What the operator's machine needs to talk to a baked cluster: the plan, the admin kubeconfig (the
 * one bake wrote, or one made from the secrets), and the etcd client identity from the secrets
 * directory. Used by {@code status}, {@code wait} and {@code kubeconfig}.
 */
public final class ClusterAccess {

    /** In the secrets directory: the etcd CA and the client certificate control planes use for the join lock. */
    public static final String ETCD_CA = "etcd/ca.crt";
    public static final String ETCD_CLIENT_CERT = "etcd-client.crt";
    public static final String ETCD_CLIENT_KEY = "etcd-client.key";

    private final Plan plan;
    private final List<io.piimage.plan.Diagnostic> warnings;
    private final Path secretsDir;

    private ClusterAccess(LoadedPlan loaded, Path secretsDir) {
        this.plan = loaded.plan();
        this.warnings = loaded.warnings();
        this.secretsDir = secretsDir;
    }

    /** Loads the plan; {@code secretsDir} null means the default beside the plan. */
    public static ClusterAccess open(Path planFile, Path secretsDir) throws InvalidPlanException, IOException {
        LoadedPlan loaded = PlanLoader.load(planFile, ImageProfiles.packaged().names());
        return new ClusterAccess(loaded, secretsDir != null ? secretsDir : Bake.defaultSecretsDir(planFile));
    }

    public Plan plan() {
        return plan;
    }

    public List<io.piimage.plan.Diagnostic> warnings() {
        return warnings;
    }

    public Path secretsDir() {
        return secretsDir;
    }

    /** The admin kubeconfig text, made from the secrets (the same bytes bake writes as admin.conf). */
    public String adminKubeconfig() throws BakeException {
        ClusterSecrets secrets = secrets();
        return Kubeconfig.render(plan.cluster().name(), plan.endpoint().url(), secrets.ca().certificate(), secrets.admin(),
                "kubernetes-admin");
    }

    private ClusterSecrets secrets() throws BakeException {
        boolean exists;
        try {
            exists = SecretsStore.exists(secretsDir);
        } catch (java.io.UncheckedIOException e) {
            throw new BakeException("secrets " + secretsDir + ": " + e.getMessage(), e);
        }
        if (!exists) {
            throw new BakeException("no secrets in " + secretsDir + ": bake the plan first (or pass --secrets DIR)", null);
        }
        try {
            return SecretsStore.load(secretsDir, plan.cluster().keyAlgorithm());
        } catch (SecretsException e) {
            throw new BakeException("secrets " + secretsDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The kubeconfig {@code status} uses: {@code explicit} if given, else the admin.conf bake wrote to
     * its default output if it is there, else one made from the secrets.
     */
    public AdminKubeconfig kubeconfig(Path explicit) throws BakeException {
        Path file = explicit != null ? explicit : Bake.defaultOutput(plan).resolve("admin.conf");
        try {
            if (explicit != null || Files.isRegularFile(file)) {
                return AdminKubeconfig.parse(Files.readString(file, StandardCharsets.UTF_8));
            }
            return AdminKubeconfig.parse(adminKubeconfig());
        } catch (IOException e) {
            throw new BakeException("cannot read kubeconfig " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new BakeException("kubeconfig " + file + ": " + e.getMessage(), e);
        }
    }

    /** The etcd client identity from the secrets directory, or null when it is not there. */
    public TlsIdentity etcdIdentity() throws BakeException {
        Path ca = secretsDir.resolve(ETCD_CA);
        Path cert = secretsDir.resolve(ETCD_CLIENT_CERT);
        Path key = secretsDir.resolve(ETCD_CLIENT_KEY);
        if (!Files.isRegularFile(ca) || !Files.isRegularFile(cert) || !Files.isRegularFile(key)) {
            return null;
        }
        try {
            return TlsIdentity.fromPem(Files.readString(ca), Files.readString(cert), Files.readString(key));
        } catch (IOException | IllegalArgumentException e) {
            throw new BakeException("etcd client certificate in " + secretsDir + ": " + e.getMessage(), e);
        }
    }

    public ClusterProbe probe(Path kubeconfig, Duration timeout) throws BakeException {
        return new ClusterProbe(plan, kubeconfig(kubeconfig), etcdIdentity(), timeout, Clock.systemUTC());
    }
}
