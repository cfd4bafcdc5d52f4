package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host keys as OpenSSH's own tools read them, and as the secrets directory keeps them. */
class SshHostKeysRealToolsTest {

    @TempDir
    Path dir;

    static final Instant NOW = Instant.parse("2026-11-01T00:00:00Z");

    ProcessResult sshKeygen(String... args) {
        Path keygen = ExternalTool.require("ssh-keygen");
        List<String> command = new java.util.ArrayList<>(List.of(keygen.toString()));
        command.addAll(List.of(args));
        return ExternalTool.run(Duration.ofSeconds(30), command, dir);
    }

    @Test
    void sshKeygenReadsEveryKeyAndDerivesEachPublicHalfFromItsPrivateHalf() throws Exception {
        ExternalTool.require("ssh-keygen");
        SshHostKeys keys = SshHostKeys.generate("master1", new SecureRandom());
        assertThat(keys.keys()).extracting(SshHostKeys.Key::type).containsExactly("ed25519", "ecdsa");
        Map<String, String> expected = Map.of("ed25519", "256 SHA256:.* root@master1 \\(ED25519\\)\n",
                "ecdsa", "256 SHA256:.* root@master1 \\(ECDSA\\)\n");
        for (SshHostKeys.Key key : keys.keys()) {
            Path privateKey = dir.resolve(key.fileName());
            Files.writeString(privateKey, key.privateKey());
            Files.setPosixFilePermissions(privateKey, PosixFilePermissions.fromString("rw-------")); // ssh-keygen insists
            Path publicKey = Files.writeString(dir.resolve(key.fileName() + ".pub"), key.publicKey() + "\n");

            ProcessResult privateFingerprint = sshKeygen("-l", "-f", privateKey.toString());
            assertThat(privateFingerprint.exitCode()).as(key.type() + ": " + privateFingerprint.output()).isZero();
            assertThat(privateFingerprint.stdout()).matches(expected.get(key.type()));
            ProcessResult publicFingerprint = sshKeygen("-l", "-f", publicKey.toString());
            assertThat(publicFingerprint.exitCode()).as(publicFingerprint.output()).isZero();
            assertThat(publicFingerprint.stdout()).isEqualTo(privateFingerprint.stdout());

            ProcessResult derived = sshKeygen("-y", "-f", privateKey.toString());
            assertThat(derived.exitCode()).as(derived.output()).isZero();
            assertThat(derived.stdout().strip()).isEqualTo(key.publicKey());

            // The private fields themselves (the EC scalar, the Ed25519 seed): a
            // signature made with the private key verifies against the public key.
            Path data = Files.writeString(dir.resolve("data-" + key.type()), "piimage host key check\n");
            ProcessResult sign = sshKeygen("-Y", "sign", "-f", privateKey.toString(), "-n", "piimage", data.toString());
            assertThat(sign.exitCode()).as(sign.output()).isZero();
            Path signers = Files.writeString(dir.resolve("allowed-" + key.type()), "master1 " + key.publicKey() + "\n");
            ProcessResult verify = ExternalTool.run(Duration.ofSeconds(30), List.of(ExternalTool.require("ssh-keygen").toString(),
                    "-Y", "verify", "-f", signers.toString(), "-I", "master1", "-n", "piimage", "-s", data + ".sig"), dir,
                    Files.readAllBytes(data));
            assertThat(verify.exitCode()).as(verify.output()).isZero();

            // A key file whose private section is damaged (its check integers differ) is refused, so the
            // checks above read what we wrote.
            Files.writeString(privateKey, damaged(key.privateKey()));
            assertThat(sshKeygen("-y", "-f", privateKey.toString()).exitCode()).as(key.type() + " damaged").isNotZero();
        }
    }

    /** The key file with the first byte of its private section's first check integer flipped. */
    private static String damaged(String pem) {
        String base64 = pem.substring(pem.indexOf('\n') + 1, pem.indexOf(SshHostKeys.END)).replaceAll("\\s", "");
        byte[] body = java.util.Base64.getDecoder().decode(base64);
        // magic (15), cipher and kdf names (8 + 8), empty kdf options (4), key count (4), public blob, section length.
        int checkint = 15 + 8 + 8 + 4 + 4 + 4 + SshHostKeys.publicBlobOf(pem).length + 4;
        body[checkint] ^= 0x55;
        return SshHostKeys.BEGIN + "\n" + java.util.Base64.getMimeEncoder(70, new byte[] {'\n'}).encodeToString(body) + "\n"
                + SshHostKeys.END + "\n";
    }

    @Test
    void knownHostsLinesAreWhatSshKeygenFindsByNameAndByAddress() throws Exception {
        ExternalTool.require("ssh-keygen");
        SshHostKeys keys = SshHostKeys.generate("lb1", new SecureRandom());
        Path knownHosts = Files.writeString(dir.resolve("known_hosts"), String.join("\n", keys.knownHostsLines("10.0.0.11")) + "\n");
        for (String host : List.of("lb1", "10.0.0.11")) {
            ProcessResult found = sshKeygen("-F", host, "-f", knownHosts.toString());
            assertThat(found.exitCode()).as(found.output()).isZero();
            for (SshHostKeys.Key key : keys.keys()) {
                assertThat(found.stdout()).contains("lb1,10.0.0.11 " + key.publicKeyWithoutComment());
            }
        }
        assertThat(sshKeygen("-F", "lb2", "-f", knownHosts.toString()).exitCode()).isNotZero();
    }

    @Test
    void theSecretsDirectoryKeepsHostKeysAndReusesThem() throws Exception {
        ClusterSecrets secrets = ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, NOW, new SecureRandom())
                .withHostKeysFor(List.of("lb1", "master1"), new SecureRandom());
        Path store = dir.resolve("s");
        SecretsStore.write(secrets, store);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.resolve("ssh/lb1")))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.resolve("ssh/lb1/ssh_host_ed25519_key"))))
                .isEqualTo("rw-------");
        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        assertThat(loaded.hostKeys()).containsOnlyKeys("lb1", "master1");
        assertThat(loaded.hostKeys().get("lb1")).isEqualTo(secrets.hostKeys().get("lb1"));
        // A re-bake with the same nodes makes nothing new.
        assertThat(loaded.withHostKeysFor(List.of("lb1", "master1"), new SecureRandom())).isSameAs(loaded);
        assertThat(SecretsStore.update(store, loaded, loaded)).isEmpty();
    }

    @Test
    void anOlderDirectoryWithoutHostKeysGetsThemAddedAndSaysSo() throws Exception {
        ClusterSecrets old = ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, NOW, new SecureRandom());
        Path store = dir.resolve("s");
        SecretsStore.write(old, store);
        Map<String, byte[]> before = snapshot(store);
        assertThat(store.resolve("ssh")).doesNotExist();

        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        assertThat(loaded.hostKeys()).isEmpty();
        ClusterSecrets updated = loaded.withHostKeysFor(List.of("lb1", "lb2"), new SecureRandom());
        List<String> changes = SecretsStore.update(store, loaded, updated);
        assertThat(changes).singleElement().asString().startsWith("added SSH host keys for lb1, lb2 (ssh/)");
        // Nothing else in the directory changed, and no staging directory is left behind.
        Map<String, byte[]> after = snapshot(store);
        after.keySet().removeIf(name -> name.startsWith("ssh/"));
        assertThat(after.keySet()).isEqualTo(before.keySet());
        before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
        try (var list = Files.list(store.resolve("ssh"))) {
            assertThat(list.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("lb1", "lb2");
        }
        assertThat(SecretsStore.load(store, KeyAlgorithm.ECDSA_P256).hostKeys()).isEqualTo(updated.hostKeys());
    }

    @Test
    void aHostKeyThatDoesNotMatchItsPublicHalfOrIsIncompleteIsRefused() throws Exception {
        ClusterSecrets secrets = ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, NOW, new SecureRandom())
                .withHostKeysFor(List.of("lb1"), new SecureRandom());
        Path store = dir.resolve("s");
        SecretsStore.write(secrets, store);
        String other = SshHostKeys.generate("lb1", new SecureRandom()).keys().get(0).publicKey();
        Files.writeString(store.resolve("ssh/lb1/ssh_host_ed25519_key.pub"), other + "\n");
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.ECDSA_P256)).isInstanceOf(SecretsException.class)
                .hasMessageContaining("ssh/lb1/ssh_host_ed25519_key and ssh/lb1/ssh_host_ed25519_key.pub are not one key pair");
        Files.delete(store.resolve("ssh/lb1/ssh_host_ed25519_key.pub"));
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.ECDSA_P256)).isInstanceOf(SecretsException.class)
                .hasMessageContaining("ssh/lb1/ssh_host_ed25519_key or its .pub is missing");
    }

    private static Map<String, byte[]> snapshot(Path root) throws Exception {
        Map<String, byte[]> files = new TreeMap<>();
        try (var walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }
}
