package io.piimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeEvent;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code piimage renew}: the admin and etcd client certificates re-issued offline from the same CAs
 * (checked with openssl), admin.conf rewritten with the new one, nothing half-written; and {@code bake}
 * warning at a CA's 90-day threshold (an injected clock), which it cannot renew.
 */
class RenewCommandRealToolsTest {

    @TempDir
    Path dir;

    static final Instant MADE = Instant.parse("2026-11-01T00:00:00Z");

    ProcessResult openssl(String... args) {
        List<String> command = new ArrayList<>(List.of(ExternalTool.require("openssl").toString()));
        command.addAll(List.of(args));
        return ExternalTool.run(Duration.ofSeconds(30), command, dir);
    }

    Bake.Result bake(Path plan, Instant at, List<BakeEvent> events) throws Exception {
        return Bake.builder(plan).output(dir.resolve("out")).clock(Clock.fixed(at, ZoneOffset.UTC)).events(events::add).build().run();
    }

    @Test
    void renewReissuesTheOperatorsCertificatesFromTheSameCasAndRewritesAdminConf() throws Exception {
        ExternalTool.require("openssl");
        Path plan = Project.copyExample("makina.yaml", dir);
        Bake.Result baked = bake(plan, MADE, new ArrayList<>());
        Path secrets = baked.secretsDir();
        byte[] ca = Files.readAllBytes(secrets.resolve("ca.crt"));
        String oldAdminKey = Files.readString(secrets.resolve("admin.key"));
        String oldEtcdKey = Files.readString(secrets.resolve("etcd-client.key"));
        String oldAdminConf = Files.readString(dir.resolve("out/admin.conf"));

        Instant renewedAt = MADE.plus(Duration.ofDays(200));
        RenewCommand renew = new RenewCommand();
        renew.clock = Clock.fixed(renewedAt, ZoneOffset.UTC);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(renew);
        command.setOut(new PrintWriter(out));
        command.setErr(new PrintWriter(err));
        int code = command.execute(plan.toString(), "-o", dir.resolve("out").toString());
        assertThat(code).as(out + "" + err).isZero();
        assertThat(out.toString()).contains("re-issued admin.crt with a new key: the old one expires " + MADE.plus(Duration.ofDays(365))
                        + "; the new one is valid until " + renewedAt.plus(Duration.ofDays(365)))
                .contains("re-issued etcd-client.crt", "wrote " + dir.resolve("out/admin.conf"))
                .doesNotContain("within 90 days");

        assertThat(Files.readAllBytes(secrets.resolve("ca.crt"))).isEqualTo(ca);
        assertThat(Files.readString(secrets.resolve("admin.key"))).isNotEqualTo(oldAdminKey);
        assertThat(Files.readString(secrets.resolve("etcd-client.key"))).isNotEqualTo(oldEtcdKey);
        long lateInTheNewYear = renewedAt.plus(Duration.ofDays(360)).getEpochSecond();
        for (String[] pair : new String[][] {{"ca.crt", "admin.crt"}, {"etcd/ca.crt", "etcd-client.crt"}}) {
            ProcessResult verify = openssl("verify", "-purpose", "sslclient", "-attime", String.valueOf(lateInTheNewYear), "-CAfile",
                    secrets.resolve(pair[0]).toString(), secrets.resolve(pair[1]).toString());
            assertThat(verify.exitCode()).as(pair[1] + ": " + verify.output()).isZero();
        }
        assertThat(openssl("x509", "-noout", "-subject", "-in", secrets.resolve("admin.crt").toString()).stdout())
                .contains("O = kubeadm:cluster-admins, CN = kubernetes-admin");
        ProcessResult keyMatches = ExternalTool.run(Duration.ofSeconds(30), List.of("bash", "-c",
                "diff <(openssl x509 -noout -pubkey -in admin.crt) <(openssl pkey -pubout -in admin.key)"), secrets);
        assertThat(keyMatches.exitCode()).as(keyMatches.output()).isZero();

        // admin.conf now carries the new certificate; kubectl reads it.
        String adminConf = Files.readString(dir.resolve("out/admin.conf"));
        assertThat(adminConf).isNotEqualTo(oldAdminConf);
        ProcessResult view = ExternalTool.run(Duration.ofSeconds(30), List.of(ExternalTool.require("kubectl").toString(), "config",
                "view", "--kubeconfig", dir.resolve("out/admin.conf").toString(), "--raw", "-o",
                "jsonpath={.users[0].user.client-certificate-data}"), dir);
        assertThat(view.exitCode()).as(view.output()).isZero();
        assertThat(new String(Base64.getDecoder().decode(view.stdout().strip()))).isEqualTo(Files.readString(secrets.resolve("admin.crt")));
        assertThat(Files.getPosixFilePermissions(dir.resolve("out/admin.conf"))).hasSize(2);
        for (Path place : List.of(secrets, dir.resolve("out"))) {
            try (Stream<Path> files = Files.list(place)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".new") || n.endsWith(".tmp"));
            }
        }
    }

    @Test
    void bakeWarnsNinetyDaysBeforeACaEndsAndNotEarlier() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        bake(plan, MADE, new ArrayList<>());
        Instant caEnd = MADE.plus(Duration.ofDays(3650));

        List<BakeEvent> early = new ArrayList<>();
        bake(plan, caEnd.minus(Duration.ofDays(91)), early);
        assertThat(early).noneMatch(e -> e instanceof BakeEvent.SecretsExpiring);

        List<BakeEvent> due = new ArrayList<>();
        bake(plan, caEnd.minus(Duration.ofDays(89)), due);
        List<String> warnings = due.stream().filter(e -> e instanceof BakeEvent.SecretsExpiring)
                .flatMap(e -> ((BakeEvent.SecretsExpiring) e).warnings().stream()).toList();
        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(0)).startsWith("ca.crt (the cluster CA) expires on " + caEnd + ", in 89 days: piimage does not renew CAs");
        assertThat(warnings).anyMatch(w -> w.startsWith("etcd/ca.crt (the etcd CA) expires on"));
    }
}
