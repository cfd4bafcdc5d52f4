package io.piimage.rehearsal;

import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.FileAnswer;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.PackageMirror;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The rehearsal's pkgs.k8s.io: a flat apt repository laid out as {@code
 * https://pkgs.k8s.io/core:/stable:/v<minor>/deb/} is (Release, InRelease, Release.key, Packages, debs
 * under amd64/), signed with a key made for the run that the cards fetch as Release.key, served over
 * HTTPS with a certificate for pkgs.k8s.io from a test CA that only the stand-in bases trust. Its
 * packages are stand-ins named and versioned like the real ones (kubeadm, kubelet, kubectl, cri-tools,
 * kubernetes-cni, with the real packages' dependencies), holding the scripts of
 * src/test/standins/rehearsal: see each script's header for what it checks.
 */
final class KubernetesStandInRepo implements AutoCloseable {

    static final String HOST = "pkgs.k8s.io";
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final String K8S_VERSION = "1.31.4-1.1";
    /** Where a stand-in base names the node whose power the test cuts in kubelet's preinst ({@link #POWER_CUT_HOOK}). */
    static final String POWER_CUT_NODE_PATH = "/etc/rehearsal/power-cut-during-kubernetes-unpack";
    /** The console line that says the node is held there, waiting for the test to cut its power. */
    static final String POWER_CUT_READY = "rehearsal-power-cut: dpkg is held in kubelet's preinst";

    /**
     * Rehearsal fault injection in the stand-in kubelet's preinst (not in pkgs.k8s.io's kubelet, nor on
     * any card): on the node named by {@link #POWER_CUT_NODE_PATH}, the first time only, it flushes the
     * card, says so straight on the serial console (journald's copy lags minutes behind under load) and
     * waits for the test to cut the power. dpkg is then in the middle of the Kubernetes packages: the
     * ones before kubelet unpacked and not configured, kubelet's own unpack begun.
     */
    static final String POWER_CUT_HOOK = """
            #!/bin/sh
            set -e
            node_file=%s
            if [ -s "$node_file" ] && [ "$(hostname)" = "$(cat "$node_file")" ] && [ ! -e /var/lib/rehearsal-power-cut ]; then
              touch /var/lib/rehearsal-power-cut
              sync
              echo "%s on $(hostname); cut the power now" >/dev/ttyS0
              sleep 600
            fi
            """.formatted(POWER_CUT_NODE_PATH, POWER_CUT_READY);

    /** Debian packages the stand-in Kubernetes packages depend on, besides the overlays' own: the mirror needs them. */
    static final List<String> DEBIAN_DEPENDENCIES = List.of("etcd-server", "etcd-client", "iptables", "ethtool",
            "ebtables");

    private final Path repo;
    private final String path;
    private final String caPem;
    private final Path keyPair;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private HttpsServer server;

    private KubernetesStandInRepo(Path repo, String path, String caPem, Path keyPair) {
        this.repo = repo;
        this.path = path;
        this.caPem = caPem;
        this.keyPair = keyPair;
    }

    /** Builds the repository of Kubernetes {@code minor} (e.g. "1.31") in {@code dir}. */
    static KubernetesStandInRepo build(Path dir, String minor) throws IOException {
        for (String tool : List.of("dpkg-deb", "apt-ftparchive", "gpg", "openssl")) {
            ExternalTool.require(tool);
        }
        Path scripts = Path.of(System.getProperty("piimage.projectRoot", ".")).resolve("src/test/standins/rehearsal");
        Path repo = Files.createDirectories(dir.resolve("deb"));
        Path debs = Files.createDirectories(repo.resolve("amd64"));
        Path build = Files.createDirectories(dir.resolve("build"));

        Map<String, String> cni = new java.util.TreeMap<>();
        for (String plugin : List.of("bridge", "host-local", "loopback", "portmap", "bandwidth", "firewall", "tuning")) {
            cni.put("opt/cni/bin/" + plugin, "cni-plugin");
        }
        deb(build, debs, scripts, "kubernetes-cni", "1.5.1-1.1", "", cni, Map.of());
        deb(build, debs, scripts, "cri-tools", "1.31.1-1.1", "", Map.of("usr/bin/crictl", "crictl"), Map.of());
        deb(build, debs, scripts, "kubectl", K8S_VERSION, "python3-yaml", Map.of("usr/bin/kubectl", "kubectl"), Map.of());
        deb(build, debs, scripts, "kubelet", K8S_VERSION,
                "iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), iproute2, socat, util-linux, mount, ethtool, ebtables,"
                        + " conntrack, python3-yaml",
                Map.of("usr/bin/kubelet", "kubelet", "usr/lib/systemd/system/kubelet.service", "kubelet.service"),
                Map.of("preinst", POWER_CUT_HOOK));
        // The stand-in's own needs on top of the real kubeadm's (cri-tools, kubernetes-cni): etcd runs from
        // Debian's etcd-server instead of an image (its own etcd.service is not the cluster's), and a
        // control-plane join adds its member with Debian's etcdctl where kubeadm has etcd's Go client.
        deb(build, debs, scripts, "kubeadm", K8S_VERSION,
                "cri-tools (>= 1.30.0), kubernetes-cni (>= 1.2.0), etcd-server, etcd-client, openssl, python3-yaml, curl",
                Map.of("usr/bin/kubeadm", "kubeadm", "usr/lib/kubeadm-stand-in/apiserver.py", "apiserver.py",
                        "usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", "10-kubeadm.conf"),
                // Debian's etcd.service started with the package and wrote /var/lib/etcd/default, which
                // kubeadm's preflight (DirAvailable--var-lib-etcd) rightly refuses: not a card's doing.
                Map.of("postinst", "#!/bin/sh\nset -e\nsystemctl disable --now etcd.service >/dev/null 2>&1 || true\n"
                        + "rm -rf /var/lib/etcd/default\n"));

        ProcessResult packages = ExternalTool.run(TIMEOUT, List.of("apt-ftparchive", "packages", "amd64"), repo);
        check(packages, "apt-ftparchive packages");
        Files.writeString(repo.resolve("Packages"), packages.stdout());
        check(ExternalTool.run(TIMEOUT, List.of("gzip", "-k", "-9", "-n", "Packages"), repo), "gzip");
        ProcessResult release = ExternalTool.run(TIMEOUT, List.of("apt-ftparchive",
                "-o", "APT::FTPArchive::Release::Origin=obs://build.opensuse.org/isv:kubernetes:core:stable:v" + minor + "/deb",
                "-o", "APT::FTPArchive::Release::Label=isv:kubernetes:core:stable:v" + minor,
                "-o", "APT::FTPArchive::Release::Architectures=amd64", "release", "."), repo);
        check(release, "apt-ftparchive release");
        Files.writeString(repo.resolve("Release"), release.stdout());
        String key = PackageMirror.sign(dir, repo);
        Files.writeString(repo.resolve("Release.key"), key);

        // The test CA and pkgs.k8s.io's serving certificate.
        Path tls = Files.createDirectories(dir.resolve("tls"));
        check(ExternalTool.run(TIMEOUT, List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj",
                "/CN=piimage rehearsal test CA (trusted by the stand-in bases only)"), tls), "openssl test CA");
        Files.writeString(tls.resolve("server.ext"), "subjectAltName=DNS:" + HOST + "\nextendedKeyUsage=serverAuth\n");
        check(ExternalTool.run(TIMEOUT, List.of("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=" + HOST),
                tls), "openssl server key");
        check(ExternalTool.run(TIMEOUT, List.of("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey",
                "ca.key", "-CAcreateserial", "-days", "30", "-extfile", "server.ext", "-out", "server.crt"), tls),
                "openssl server certificate");
        check(ExternalTool.run(TIMEOUT, List.of("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "server.key", "-outform",
                "DER", "-out", "server.pk8"), tls), "openssl pkcs8");
        return new KubernetesStandInRepo(repo, "/core:/stable:/v" + minor + "/deb/",
                Files.readString(tls.resolve("ca.crt")), tls);
    }

    private static void deb(Path build, Path debs, Path scripts, String name, String version, String depends,
                            Map<String, String> files, Map<String, String> maintainerScripts) throws IOException {
        Path root = build.resolve(name);
        Files.createDirectories(root.resolve("DEBIAN"));
        StringBuilder control = new StringBuilder()
                .append("Package: ").append(name).append('\n')
                .append("Version: ").append(version).append('\n')
                .append("Architecture: amd64\nMaintainer: piimage rehearsal <rehearsal@mirror.invalid>\n");
        if (!depends.isEmpty()) {
            control.append("Depends: ").append(depends).append('\n');
        }
        control.append("Section: admin\nPriority: optional\n")
                .append("Description: rehearsal stand-in for pkgs.k8s.io's ").append(name).append('\n')
                .append(" Not Kubernetes: a script that checks what the real one would need (piimage's tests).\n");
        Files.writeString(root.resolve("DEBIAN/control"), control);
        for (Map.Entry<String, String> m : maintainerScripts.entrySet()) {
            Path script = Files.writeString(root.resolve("DEBIAN/" + m.getKey()), m.getValue());
            script.toFile().setExecutable(true, false);
        }
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path target = root.resolve(f.getKey());
            Files.createDirectories(target.getParent());
            Files.copy(scripts.resolve(f.getValue()), target, StandardCopyOption.REPLACE_EXISTING);
            target.toFile().setExecutable(!f.getKey().contains("systemd"), false);
            target.toFile().setReadable(true, false);
        }
        Path out = debs.resolve(name + "_" + version + "_amd64.deb");
        check(ExternalTool.run(TIMEOUT, List.of("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root.toString(),
                out.toString()), null), "dpkg-deb --build " + name);
    }

    /** The test CA's certificate (PEM), which the stand-in bases trust. */
    String caPem() {
        return caPem;
    }

    /** Starts serving HTTPS on 127.0.0.1 (an ephemeral port); returns the port. */
    int serve() throws IOException {
        try {
            KeyFactory kf = KeyFactory.getInstance("EC");
            PrivateKey key = kf.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(keyPair.resolve("server.pk8"))));
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            Certificate cert = cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(keyPair.resolve("server.crt"))));
            Certificate ca = cf.generateCertificate(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, new char[0], new Certificate[] {cert, ca});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, new char[0]);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), null, null);
            server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS for the stand-in " + HOST, e);
        }
        server.createContext("/", exchange -> FileAnswer.answer(exchange, repo, path, requests));
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        return server.getAddress().getPort();
    }

    /** Every request served so far: method, path, status. */
    List<String> requests() {
        return List.copyOf(requests);
    }

    /** The test CA as a file name OpenSSL looks up by subject hash in /etc/ssl/certs. */
    String caHashName() throws IOException {
        ProcessResult r = ExternalTool.run(TIMEOUT, List.of("openssl", "x509", "-hash", "-noout", "-in",
                keyPair.resolve("ca.crt").toString()), null);
        check(r, "openssl x509 -hash");
        return r.stdout().strip() + ".0";
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static void check(ProcessResult r, String what) {
        if (r.exitCode() != 0) {
            fail(what + " failed (exit " + r.exitCode() + "):\n" + ExternalTool.lastLines(r.output(), 30));
        }
    }
}
