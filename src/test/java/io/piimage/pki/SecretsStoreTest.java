package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsStoreTest {

    @TempDir
    Path dir;

    static final ClusterSecrets SECRETS = ClusterSecrets.generate(KeyAlgorithm.RSA_2048, Instant.parse("2026-11-01T00:00:00Z"),
            new SecureRandom());

    @Test
    void writesPrivatelyAndLoadsBackTheSameSecrets() throws Exception {
        Path store = dir.resolve("makina.secrets");
        SecretsStore.write(SECRETS, store);
        try (Stream<Path> walk = Files.walk(store)) {
            for (Path p : walk.toList()) {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                assertThat(mode).as(p.toString()).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
            }
        }
        assertThat(SecretsStore.permissionProblems(store)).isEmpty();
        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.RSA_2048);
        assertThat(loaded.generation()).isEqualTo(SECRETS.generation());
        assertThat(loaded.ca().certificate()).isEqualTo(SECRETS.ca().certificate());
        assertThat(loaded.etcdCa().privateKey().getEncoded()).isEqualTo(SECRETS.etcdCa().privateKey().getEncoded());
        assertThat(loaded.serviceAccount().getPublic()).isEqualTo(SECRETS.serviceAccount().getPublic());
        assertThat(loaded.bootstrapToken()).isEqualTo(SECRETS.bootstrapToken());
        assertThat(loaded.vrrpPassword()).isEqualTo(SECRETS.vrrpPassword());
        assertThat(SecretsStore.contents(loaded)).isEqualTo(SecretsStore.contents(SECRETS));
        assertThat(Files.readString(store.resolve("README"))).contains("Back it up");
    }

    @Test
    void anExistingDirectoryIsNeverOverwritten() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(SECRETS, store);
        byte[] before = Files.readAllBytes(store.resolve("ca.key"));
        assertThatThrownBy(() -> SecretsStore.write(ClusterSecrets.generate(KeyAlgorithm.RSA_2048, Instant.now(), new SecureRandom()), store))
                .isInstanceOf(IOException.class).hasMessageContaining("never overwrites");
        assertThat(Files.readAllBytes(store.resolve("ca.key"))).isEqualTo(before);
    }

    @Test
    void anIncompleteDirectoryNamesEveryMissingFile() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(SECRETS, store);
        Files.delete(store.resolve("sa.key"));
        Files.delete(store.resolve("etcd/ca.crt"));
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.RSA_2048))
                .isInstanceOf(SecretsException.class)
                .hasMessageContaining("missing etcd/ca.crt, sa.key").hasMessageContaining("does not regenerate");
    }

    @Test
    void anotherKeyAlgorithmIsAnError() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(SECRETS, store);
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.ECDSA_P384))
                .isInstanceOf(SecretsException.class).hasMessageContaining("rsa-2048").hasMessageContaining("ecdsa-p384");
    }

    @Test
    void aKeyThatDoesNotMatchItsCertificateIsAnError() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(SECRETS, store);
        Files.copy(store.resolve("front-proxy-ca.key"), store.resolve("ca.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.RSA_2048))
                .isInstanceOf(SecretsException.class).hasMessageContaining("ca.key does not belong to ca.crt");
    }

    @Test
    void aFailedWriteLeavesNothingBehind() throws Exception {
        Path parent = Files.createDirectory(dir.resolve("readonly"));
        parent.toFile().setWritable(false);
        try {
            if (Files.isWritable(parent)) {
                return; // root ignores permissions; the write-through-a-file case below still runs
            }
            assertThatThrownBy(() -> SecretsStore.write(SECRETS, parent.resolve("s"))).isInstanceOf(IOException.class);
        } finally {
            parent.toFile().setWritable(true);
        }
        try (Stream<Path> list = Files.list(parent)) {
            assertThat(list.toList()).isEmpty();
        }
    }

    @Test
    void aFailedWriteUnderAFileLeavesNothingBehind() throws Exception {
        Path blocker = Files.writeString(dir.resolve("not-a-dir"), "x");
        assertThatThrownBy(() -> SecretsStore.write(SECRETS, blocker.resolve("s"))).isInstanceOf(IOException.class);
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.toList()).containsExactly(blocker);
        }
    }

    @Test
    void openPermissionsAreReported() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(SECRETS, store);
        Files.setPosixFilePermissions(store.resolve("ca.key"), PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(SecretsStore.permissionProblems(store)).singleElement().asString()
                .contains("ca.key").contains("chmod -R go=");
    }
}
