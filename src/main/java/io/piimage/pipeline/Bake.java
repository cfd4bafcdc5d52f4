package io.piimage.pipeline;

import io.piimage.image.Fat32Volume;
import io.piimage.image.ImageProfiles;
import io.piimage.pki.ClusterSecrets;
import io.piimage.pki.Kubeconfig;
import io.piimage.pki.SecretsException;
import io.piimage.pki.SecretsStore;
import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.LoadedPlan;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.plan.PlanLoader;
import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import io.piimage.render.RenderException;
import io.piimage.render.TemplateSource;
import io.piimage.render.Templates;
import io.piimage.sink.Leftovers;
import io.piimage.sink.OutputLock;
import io.piimage.sink.Sink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Bakes a plan: load and validate it, load or create its secrets, render every node's card, and hand
 * the files to a sink. Order matters for "nothing half-written": the plan, the secrets, the output place
 * and the base image are checked, and node images and output staged, before anything that stays is
 * written; new secrets are saved before the output that depends on them, so output never refers to
 * secrets that were lost.
 */
public final class Bake {

    private final Path planFile;
    private final BakeTarget target;
    private final Path secretsDir;
    private final boolean initSecrets;
    private final Path templatesDir;
    private final Clock clock;
    private final Consumer<BakeEvent> events;
    private final Path restoreFrom;

    private Bake(Builder builder) {
        this.planFile = Objects.requireNonNull(builder.planFile, "plan");
        this.target = builder.target;
        this.secretsDir = builder.secretsDir;
        this.initSecrets = builder.initSecrets;
        this.templatesDir = builder.templatesDir;
        this.clock = builder.clock;
        this.events = builder.events;
        this.restoreFrom = builder.restoreFrom;
    }

    public static Builder builder(Path planFile) {
        return new Builder(planFile);
    }

    /** {@code <plan file name without extension>.secrets} beside the plan. */
    public static Path defaultSecretsDir(Path planFile) {
        String name = planFile.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        Path parent = planFile.toAbsolutePath().getParent();
        return parent.resolve(stem + ".secrets");
    }

    /**
     * True when a bake of {@code planFile} with these options would make a new cluster's secrets (its
     * first bake) instead of loading them. False when that cannot be told here: the bake itself then
     * says what is wrong.
     */
    public static boolean makesNewSecrets(Path planFile, Path secretsDir, boolean initSecrets) {
        try {
            return secretsDir == null ? !SecretsStore.exists(defaultSecretsDir(planFile)) : initSecrets && !SecretsStore.exists(secretsDir);
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** {@code ./out/<cluster name>}. */
    public static Path defaultOutput(Plan plan) {
        return Path.of("out", plan.cluster().name());
    }

    public record Result(Plan plan, Path output, Path secretsDir, boolean secretsCreated, List<NodeCard> cards) {
        public Result {
            cards = List.copyOf(cards);
        }
    }

    public Result run() throws InvalidPlanException, BakeException, IOException {
        // Everything that can be refused is refused here, before the first byte is written. The slow
        // preparations that depend on little (the templates on nothing, the secrets on the plan's key
        // algorithm and node names) run beside the rest, on the second core, so a bake waits for the
        // slowest of them rather than for their sum; their refusals still come in the same order.
        Background<Templates> templatesReady = Background.start("piimage-templates", () -> {
            Templates ready = new Templates(templatesDir == null ? TemplateSource.packaged() : TemplateSource.withOverrides(templatesDir));
            NodeRenderer.parseAhead(ready);
            return ready;
        });
        ImageProfiles profiles = ImageProfiles.packaged();
        LoadedPlan loaded = PlanLoader.load(planFile, profiles.names());
        Plan plan = loaded.plan();
        events.accept(new BakeEvent.PlanLoaded(planFile, plan.nodes().size(), loaded.warnings()));

        Path secretsPath = secretsDir != null ? secretsDir : defaultSecretsDir(planFile);
        boolean create;
        try {
            create = !SecretsStore.exists(secretsPath);
        } catch (UncheckedIOException e) {
            throw new BakeException(e.getMessage(), e);
        }
        // Made or read in memory only: nothing is written before every check below has passed.
        Background<ClusterSecrets[]> secretsReady = Background.start("piimage-secrets", () -> {
            SecureRandom random = new SecureRandom();
            ClusterSecrets loadedSecrets = create
                    ? ClusterSecrets.generate(plan.cluster().keyAlgorithm(), clock.instant(), random)
                    : SecretsStore.load(secretsPath, plan.cluster().keyAlgorithm());
            // Kept up to date on every bake, saved below with the rest: leaves close to expiry re-issued,
            // host keys made for nodes that have none.
            return new ClusterSecrets[] {loadedSecrets, loadedSecrets.withLeavesRenewed(clock.instant(), random)
                    .withHostKeysFor(plan.nodes().stream().map(Node::name).toList(), random)
                    .withJoinCertificatesFor(plan.nodes().stream().filter(n -> n.role().isKubernetes()).map(Node::name).toList(),
                            clock.instant(), random)};
        });

        Templates templates;
        try {
            templates = templatesReady.join();
        } catch (IllegalArgumentException | SecretsException e) {
            throw new BakeException(e.getMessage(), e);
        }

        Path output = this.target.path() != null ? this.target.path() : defaultOutput(plan);
        Sink sink = this.target.sink(output);
        checkApart(output, secretsPath);
        if (create && secretsDir != null && !initSecrets) {
            throw new BakeException("the secrets directory " + secretsPath + (Files.exists(secretsPath) ? " is empty" : " does not exist")
                    + ". If this is a new cluster, add --init-secrets to create its secrets there; if not, check the path: "
                    + "new secrets would be a new CA that no node of the cluster trusts");
        }
        sink.check();

        ClusterSecrets stored;
        ClusterSecrets secrets;
        try {
            ClusterSecrets[] both = secretsReady.join();
            stored = both[0];
            secrets = both[1];
        } catch (SecretsException e) {
            throw new BakeException("secrets " + secretsPath + ": " + e.getMessage(), e);
        }

        if (!secrets.expiryWarnings(clock.instant()).isEmpty()) {
            events.accept(new BakeEvent.SecretsExpiring(secretsPath, secrets.expiryWarnings(clock.instant())));
        }
        List<NodeCard> cards = RestoreSnapshot.onFirstControlPlane(plan, render(plan, secrets, profiles, templates), restoreFrom);
        FileTree tree = outputTree(plan, secrets, cards);

        try (OutputLock lock = lock(output)) {
            Path workDir = output.toAbsolutePath().normalize().getParent();
            sweep(workDir, Leftovers.prefixesBeside(output));
            // A killed first bake may also have left new secrets half-staged beside the secrets directory.
            Path secretsAbsolute = secretsPath.toAbsolutePath().normalize();
            sweep(secretsAbsolute.getParent(), List.of("." + secretsAbsolute.getFileName() + ".tmp-"));
            if (this.target instanceof BakeTarget.NodeImages images) {
                // Decompressed, recognised, checked against the plan, and every image made in staging.
                try (BaseImage base = BaseImage.open(images.base(), workDir, profiles, images.profile(), plan, events);
                     ImageSet set = ImageSet.build(base, cards, images.compression(), Fat32Volume.DEFAULT_TIMESTAMP, // not the clock: reproducible
                             workDir, events)) {
                    write(sink, tree, create, stored, secrets, secretsPath, output, () -> {
                        Path manifest = set.publish(plan, output, LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
                        events.accept(new BakeEvent.ImagesPublished(output, cards.size(), manifest));
                    });
                }
            } else {
                write(sink, tree, create, stored, secrets, secretsPath, output, null);
            }
        }
        return new Result(plan, output, secretsPath, create, cards);
    }

    /** A task run on its own daemon thread, whose result (or exception, as thrown) {@link #join()} gives. */
    private static final class Background<T> {
        interface Task<T> {
            T call() throws Exception;
        }

        private final java.util.concurrent.FutureTask<T> task;

        private Background(java.util.concurrent.FutureTask<T> task) {
            this.task = task;
        }

        static <T> Background<T> start(String name, Task<T> work) {
            java.util.concurrent.FutureTask<T> task = new java.util.concurrent.FutureTask<>(work::call);
            Thread thread = new Thread(task, name);
            thread.setDaemon(true); // a refused bake does not wait for it
            thread.start();
            return new Background<>(task);
        }

        /** The result; the task's own exception if it threw one of the kinds a bake reports. */
        T join() throws SecretsException, InvalidPlanException, BakeException, IOException {
            try {
                return task.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BakeException("interrupted", e);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof SecretsException se) {
                    throw se;
                }
                if (cause instanceof BakeException be) {
                    throw be;
                }
                if (cause instanceof InvalidPlanException ie) {
                    throw ie;
                }
                if (cause instanceof IOException io) {
                    throw io;
                }
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            }
        }
    }

    /** What a target adds after the seed files are in place (node images: publishing them). */
    private interface AfterOutput {
        void run() throws IOException;
    }

    /** Stages the files, saves the secrets, commits the files, then {@code after} (if any). */
    private void write(Sink sink, FileTree tree, boolean create, ClusterSecrets stored, ClusterSecrets secrets,
                       Path secretsPath, Path output, AfterOutput after) throws IOException, BakeException {
        try (Sink.Staged staged = sink.stage(tree)) {
            // The first write that stays: new secrets before the output that depends on them.
            if (create) {
                writeSecrets(secrets, secretsPath);
                events.accept(new BakeEvent.SecretsCreated(secretsPath));
            } else {
                List<String> changes = SecretsStore.update(secretsPath, stored, secrets);
                if (!changes.isEmpty()) {
                    events.accept(new BakeEvent.SecretsUpdated(secretsPath, changes));
                }
                events.accept(new BakeEvent.SecretsReused(secretsPath, SecretsStore.permissionProblems(real(secretsPath))));
            }
            String written = create ? "the secrets directory " + secretsPath + " was created (keep it); no card was written" : null;
            try {
                staged.commit();
                events.accept(new BakeEvent.OutputWritten(output));
                written = (create ? "the secrets directory " + secretsPath + " was created (keep it) and " : "")
                        + "the seed files and admin.conf were written to " + output + ", but not the node images";
                if (after != null) {
                    after.run();
                }
            } catch (IOException | RuntimeException e) {
                if (written == null) {
                    throw e;
                }
                throw new BakeException(e instanceof IOException io ? BakeException.describe(io) : e.toString(), e, written);
            }
        }
    }

    private static OutputLock lock(Path target) throws IOException, BakeException {
        try {
            return OutputLock.acquire(target);
        } catch (OutputLock.BusyException e) {
            throw e;
        } catch (IOException e) {
            throw new BakeException("cannot write the output " + target + ": " + BakeException.describe(e), e);
        }
    }

    private void sweep(Path dir, List<String> prefixes) throws IOException {
        Leftovers.Sweep sweep = Leftovers.sweep(dir, prefixes);
        if (!sweep.removed().isEmpty() || !sweep.unknown().isEmpty()) {
            events.accept(new BakeEvent.LeftoversFound(sweep.removed(), sweep.unknown()));
        }
    }

    /** Saves new secrets; another bake that made them first is named as such, not as "Directory not empty". */
    private static void writeSecrets(ClusterSecrets secrets, Path secretsPath) throws IOException, BakeException {
        try {
            SecretsStore.write(secrets, secretsPath);
        } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
            throw new BakeException("another bake created the secrets in " + secretsPath
                    + " while this one was running; nothing was written by this one: bake again to use them", e);
        }
    }

    /**
     * Refuses an output and a secrets directory that overlap: every bake replaces the whole output,
     * which would delete secrets kept inside it. Compared by real paths (of the nearest existing
     * ancestor), so symbolic links cannot hide the overlap.
     */
    static void checkApart(Path output, Path secrets) throws BakeException, IOException {
        Path out = real(output);
        Path sec = real(secrets);
        if (sec.startsWith(out)) {
            throw new BakeException((sec.equals(out) ? "the secrets directory " + secrets + " is the output"
                    : "the secrets directory " + secrets + " is inside the output " + output)
                    + ": every bake replaces the output, which would delete the cluster's secrets. Keep them apart, "
                    + "e.g. the default secrets directory <plan name>.secrets beside the plan, or another -o");
        }
        if (out.startsWith(sec)) {
            throw new BakeException("the output " + output + " is inside the secrets directory " + secrets
                    + ": keep the cards out of the secrets directory (and the secrets out of the output); choose another -o");
        }
    }

    /** {@code path} with every symbolic link resolved, through its nearest existing ancestor. */
    static Path real(Path path) throws IOException {
        Path absolute = path.toAbsolutePath();
        Path existing = absolute;
        List<Path> rest = new ArrayList<>();
        while (existing != null && !Files.exists(existing)) {
            rest.add(0, existing.getFileName());
            existing = existing.getParent();
        }
        Path real = existing == null ? absolute.getRoot() : existing.toRealPath();
        for (Path name : rest) {
            real = real.resolve(name);
        }
        return real.normalize();
    }

    private List<NodeCard> render(Plan plan, ClusterSecrets secrets, ImageProfiles profiles, Templates templates)
            throws BakeException {
        NodeRenderer renderer = new NodeRenderer(plan, secrets, profiles, templates);
        List<NodeCard> cards = new ArrayList<>();
        for (Node node : plan.nodes()) {
            try {
                NodeCard card = renderer.render(node);
                cards.add(card);
                events.accept(new BakeEvent.NodeRendered(node, card.nodeFiles().size(), card.bootFiles().totalBytes()));
            } catch (RenderException e) {
                throw new BakeException("node " + node.name() + ": " + e.getMessage(), e);
            }
        }
        return cards;
    }

    /**
     * {@code <node>/user-data}, {@code <node>/meta-data}, {@code <node>/network-config}, {@code admin.conf},
     * {@code known_hosts}.
     */
    static FileTree outputTree(Plan plan, ClusterSecrets secrets, List<NodeCard> cards) {
        FileTree.Builder tree = FileTree.builder();
        for (NodeCard card : cards) {
            for (NodeFile file : card.bootFiles().files()) {
                tree.add(new NodeFile(card.node().name() + "/" + file.path(), file.content(), NodeFile.SECRET));
            }
        }
        String adminConf = Kubeconfig.render(plan.cluster().name(), plan.endpoint().url(),
                secrets.ca().certificate(), secrets.admin(), "kubernetes-admin");
        tree.add(NodeFile.text("admin.conf", adminConf, NodeFile.SECRET));
        tree.add(NodeFile.text("known_hosts", RoleSecrets.knownHosts(plan, secrets), NodeFile.READABLE));
        return tree.build();
    }

    public static final class Builder {
        private final Path planFile;
        private BakeTarget target = BakeTarget.at(null);
        private Path secretsDir;
        private boolean initSecrets;
        private Path restoreFrom;
        private Path templatesDir;
        private Clock clock = Clock.systemUTC();
        private Consumer<BakeEvent> events = event -> { };

        private Builder(Path planFile) {
            this.planFile = planFile;
        }

        /** Where to write; default: the directory {@code ./out/<cluster>}. */
        public Builder target(BakeTarget target) {
            this.target = Objects.requireNonNull(target);
            return this;
        }

        /** {@link #target} {@link BakeTarget#at}: a directory, or a file ending .tar.gz/.tgz/.zip. */
        public Builder output(Path output) {
            return target(BakeTarget.at(output));
        }

        public Builder secretsDir(Path secretsDir) {
            this.secretsDir = secretsDir;
            return this;
        }

        /** An etcd snapshot the first control plane restores before kubeadm init (null: an empty cluster). */
        public Builder restoreFrom(Path snapshot) {
            this.restoreFrom = snapshot;
            return this;
        }

        /** Allows creating secrets in an explicit {@link #secretsDir} that does not exist or is empty. */
        public Builder initSecrets(boolean initSecrets) {
            this.initSecrets = initSecrets;
            return this;
        }

        public Builder templatesDir(Path templatesDir) {
            this.templatesDir = templatesDir;
            return this;
        }

        /** The time new certificates start from; tests fix it. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public Builder events(Consumer<BakeEvent> events) {
            this.events = events;
            return this;
        }

        /**
         * Node images from {@code base} (raw, uncompressed images, profile recognised) into the output
         * given before: shorthand for {@link #target} with {@link BakeTarget#nodeImages}.
         */
        public Builder baseImage(Path base) {
            return target(BakeTarget.nodeImages(target.path(), base, Compression.NONE, null));
        }

        public Bake build() {
            return new Bake(this);
        }
    }
}
