package io.piimage.pki;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/** A kubeadm bootstrap token, "abcdef.0123456789abcdef": the id is public, the secret is not. */
public record BootstrapToken(String id, String secret) {

    public static final Pattern FORMAT = Pattern.compile("^([a-z0-9]{6})\\.([a-z0-9]{16})$");
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    public BootstrapToken {
        if (!FORMAT.matcher(id + "." + secret).matches()) {
            throw new IllegalArgumentException("a bootstrap token is [a-z0-9]{6}.[a-z0-9]{16}");
        }
    }

    public static BootstrapToken random(SecureRandom random) {
        return new BootstrapToken(randomString(6, random), randomString(16, random));
    }

    public static BootstrapToken parse(String text) {
        var matcher = FORMAT.matcher(text.strip());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})");
        }
        return new BootstrapToken(matcher.group(1), matcher.group(2));
    }

    static String randomString(int length, SecureRandom random) {
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            out.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return id + "." + secret;
    }
}
