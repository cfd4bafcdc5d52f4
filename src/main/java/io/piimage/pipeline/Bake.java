package io.piimage.pipeline;

import io.piimage.image.ImageProfiles;
import io.piimage.image.ProgressListener;
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
import io.piimage.sink.DirectorySink;
import io.piimage.sink.Sink;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Bakes a plan: load and validate it, load or create its secrets, render every node's card, and hand
 * the files to a sink. Order matters for "nothing half-written": an invalid plan stops before anything
 * is written; new secrets are saved before the output that depends on them, so output never refers to
 * secrets that were lost.
 */
public final class Bake {

    private final Path planFile;
    private final Path output;
    private final Path secretsDir;
    private final Path templatesDir;
    private final Clock clock;
    private final Consumer<BakeEvent> events;
    private final Path baseImage;
    private final NodeImages.Compression compression;
    private final boolean checksums;
    private final String imageProfile;
    private final ProgressListener progress;

    private Bake(Builder builder) {
        this.planFile = Objects.requireNonNull(builder.planFile, "plan");
        this.output = builder.output;
        this.secretsDir = builder.secretsDir;
        this.templatesDir = builder.templatesDir;
        this.clock = builder.clock;
        this.events = builder.events;
        this.baseImage = builder.baseImage;
        this.compression = builder.compression;
        this.checksums = builder.checksums;
        this.imageProfile = builder.imageProfile;
        this.progress = builder.progress;
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
        ImageProfiles profiles = ImageProfiles.packaged();
        LoadedPlan loaded = PlanLoader.load(planFile, profiles.names());
        Plan plan = loaded.plan();
        events.accept(new BakeEvent.PlanLoaded(planFile, plan.nodes().size(), loaded.warnings()));

        Templates templates;
        try {
            templates = new Templates(templatesDir == null ? TemplateSource.packaged() : TemplateSource.withOverrides(templatesDir));
        } catch (IllegalArgumentException e) {
            throw new BakeException(e.getMessage(), e);
        }

        Path secretsPath = secretsDir != null ? secretsDir : defaultSecretsDir(planFile);
        boolean create = !SecretsStore.exists(secretsPath);
        ClusterSecrets stored;
        SecureRandom random = new SecureRandom();
        try {
            stored = create
                    ? ClusterSecrets.generate(plan.cluster().keyAlgorithm(), clock.instant(), random)
                    : SecretsStore.load(secretsPath, plan.cluster().keyAlgorithm());
        } catch (SecretsException e) {
            throw new BakeException("secrets " + secretsPath + ": " + e.getMessage(), e);
        }
        // Kept up to date on every bake, saved below with the rest: leaves close to expiry re-issued,
        // host keys made for nodes that have none.
        ClusterSecrets secrets = stored.withLeavesRenewed(clock.instant(), random)
                .withHostKeysFor(plan.nodes().stream().map(Node::name).toList(), random);

        List<NodeCard> cards = render(plan, secrets, profiles, templates);
        FileTree tree = outputTree(plan, secrets, cards);

        Path target = output != null ? output : defaultOutput(plan);
        Sink sink = Sink.forPath(target);
        NodeImages images = null;
        if (baseImage != null) {
            if (!(sink instanceof DirectorySink)) {
                throw new BakeException("--base-image writes <node>.img files into a directory; " + target
                        + " is an archive: give a directory with -o");
            }
            // Decompress, recognise and check against the plan before anything (secrets included) is written.
            images = NodeImages.open(baseImage, target.toAbsolutePath().getParent(), profiles, imageProfile, plan, events);
        }
        try {
            if (create) {
                SecretsStore.write(secrets, secretsPath);
                events.accept(new BakeEvent.SecretsCreated(secretsPath));
            } else {
                List<String> changes = SecretsStore.update(secretsPath, stored, secrets);
                if (!changes.isEmpty()) {
                    events.accept(new BakeEvent.SecretsUpdated(secretsPath, changes));
                }
                events.accept(new BakeEvent.SecretsReused(secretsPath, SecretsStore.permissionProblems(secretsPath)));
            }
            if (images != null) {
                images.build(cards, compression, checksums, LocalDateTime.ofInstant(clock.instant(), ZoneOffset.UTC), progress, events);
            }
            sink.write(tree);
            events.accept(new BakeEvent.OutputWritten(target));
            if (images != null) {
                Path manifest = images.publish(plan, target, LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
                events.accept(new BakeEvent.ImagesPublished(target, cards.size(), manifest));
            }
        } finally {
            if (images != null) {
                images.close();
            }
        }
        return new Result(plan, target, secretsPath, create, cards);
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
        private Path output;
        private Path secretsDir;
        private Path templatesDir;
        private Clock clock = Clock.systemUTC();
        private Consumer<BakeEvent> events = event -> { };
        private Path baseImage;
        private NodeImages.Compression compression = NodeImages.Compression.NONE;
        private boolean checksums;
        private String imageProfile;
        private ProgressListener progress = ProgressListener.NONE;

        private Builder(Path planFile) {
            this.planFile = planFile;
        }

        /** A directory, or a file ending .tar.gz/.tgz/.zip; default {@code ./out/<cluster>}. */
        public Builder output(Path output) {
            this.output = output;
            return this;
        }

        public Builder secretsDir(Path secretsDir) {
            this.secretsDir = secretsDir;
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

        /** Also write {@code <node>.img} per node from this base (.img, .img.xz, .img.gz, .zip). */
        public Builder baseImage(Path baseImage) {
            this.baseImage = baseImage;
            return this;
        }

        public Builder compression(NodeImages.Compression compression) {
            this.compression = Objects.requireNonNull(compression);
            return this;
        }

        /** Put each node image's SHA-256 in the Imager manifest (reads every image once more). */
        public Builder checksums(boolean checksums) {
            this.checksums = checksums;
            return this;
        }

        /** Force the base image's profile instead of recognising it by its boot partition label. */
        public Builder imageProfile(String imageProfile) {
            this.imageProfile = imageProfile;
            return this;
        }

        public Builder progress(ProgressListener progress) {
            this.progress = Objects.requireNonNull(progress);
            return this;
        }

        public Bake build() {
            return new Bake(this);
        }
    }
}
