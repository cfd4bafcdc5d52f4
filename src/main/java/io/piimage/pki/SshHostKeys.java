package io.piimage.pki;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * One node's SSH host keys, made at bake time so that the operator knows them before the node first
 * boots: ed25519 and ecdsa (P-256). sshd's default configuration on Ubuntu 24.04 and Debian trixie also
 * names an RSA key; it is left out on purpose: every OpenSSH client since 5.7 (2011) and PuTTY since
 * 0.68 speak ecdsa, most prefer ed25519, and an RSA-3072 key costs a prime search of 0.3 s to several
 * seconds per node on every first bake, where the other two take milliseconds. sshd logs that it cannot
 * load the RSA default and serves the other two. Keys come from the JDK's providers and are written in
 * OpenSSH's own formats: "openssh-key-v1" (unencrypted, as {@code ssh-keygen -N ''} writes host keys)
 * and the one-line public key.
 *
 * @param node the node the keys belong to (the public keys' comment is {@code root@node})
 */
public record SshHostKeys(String node, List<Key> keys) {

    /** The key types, in the order files and known_hosts lines are written. */
    public static final List<String> TYPES = List.of("ed25519", "ecdsa");

    static final String BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
    static final String END = "-----END OPENSSH PRIVATE KEY-----";
    private static final byte[] MAGIC = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);

    /**
     * @param type       {@code ed25519} or {@code ecdsa}: cloud-init's names ({@code <type>_private})
     * @param privateKey the "OPENSSH PRIVATE KEY" file
     * @param publicKey  {@code <algorithm> <base64> root@<node>}, one line without newline
     */
    public record Key(String type, String privateKey, String publicKey) {

        /** The file name sshd gives it: {@code ssh_host_<type>_key} (+ {@code .pub}). */
        public String fileName() {
            return "ssh_host_" + type + "_key";
        }

        /** {@code <algorithm> <base64>}, the public key without its comment. */
        public String publicKeyWithoutComment() {
            String[] fields = publicKey.split(" ");
            return fields[0] + " " + fields[1];
        }

        @Override
        public String toString() {
            return "SshHostKeys.Key[" + type + "]"; // never print the private half by accident
        }
    }

    public SshHostKeys {
        keys = List.copyOf(keys);
    }

    public static SshHostKeys generate(String node, SecureRandom random) {
        return new SshHostKeys(node, TYPES.stream().map(type -> generate(type, node, random)).toList());
    }

    /** {@code name,address type base64} lines for a known_hosts file, one per key. */
    public List<String> knownHostsLines(String address) {
        return keys.stream().map(k -> node + "," + address + " " + k.publicKeyWithoutComment()).toList();
    }

    @Override
    public String toString() {
        return "SshHostKeys[" + node + "]";
    }

    static Key generate(String type, String node, SecureRandom random) {
        try {
            String comment = "root@" + node;
            KeyPairGenerator generator;
            byte[] publicBlob;
            byte[] privateFields;
            switch (type) {
                case "ed25519" -> {
                    generator = KeyPairGenerator.getInstance("Ed25519");
                    generator.initialize(java.security.spec.NamedParameterSpec.ED25519, random);
                    KeyPair pair = generator.generateKeyPair();
                    byte[] spki = pair.getPublic().getEncoded();
                    // The SubjectPublicKeyInfo of an Ed25519 key ends with the 32-byte encoded point (RFC 8410).
                    byte[] point = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
                    byte[] seed = ((EdECPrivateKey) pair.getPrivate()).getBytes()
                            .orElseThrow(() -> new IllegalStateException("the Ed25519 key has no seed"));
                    publicBlob = new Wire().string("ssh-ed25519").string(point).bytes();
                    // OpenSSH keeps the 64-byte "secret key" of the reference implementation: seed || public point.
                    byte[] secret = new byte[64];
                    System.arraycopy(seed, 0, secret, 0, 32);
                    System.arraycopy(point, 0, secret, 32, 32);
                    privateFields = new Wire().string("ssh-ed25519").string(point).string(secret).bytes();
                    Arrays.fill(secret, (byte) 0);
                    Arrays.fill(seed, (byte) 0);
                }
                case "ecdsa" -> {
                    generator = KeyPairGenerator.getInstance("EC");
                    generator.initialize(new ECGenParameterSpec("secp256r1"), random);
                    KeyPair pair = generator.generateKeyPair();
                    ECPublicKey pub = (ECPublicKey) pair.getPublic();
                    byte[] q = new byte[65];
                    q[0] = 4; // uncompressed point
                    unsigned(pub.getW().getAffineX(), q, 1, 32);
                    unsigned(pub.getW().getAffineY(), q, 33, 32);
                    publicBlob = new Wire().string("ecdsa-sha2-nistp256").string("nistp256").string(q).bytes();
                    privateFields = new Wire().string("ecdsa-sha2-nistp256").string("nistp256").string(q)
                            .mpint(((ECPrivateKey) pair.getPrivate()).getS()).bytes();
                }
                default -> throw new IllegalArgumentException("unknown SSH host key type " + type);
            }
            String algorithm = new Wire.Reader(publicBlob).string();
            String publicLine = algorithm + " " + Base64.getEncoder().encodeToString(publicBlob) + " " + comment;
            return new Key(type, privateKeyFile(publicBlob, privateFields, comment, random), publicLine);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an SSH " + type + " host key", e);
        }
    }

    /** The unencrypted openssh-key-v1 container (OpenSSH's PROTOCOL.key), PEM-armoured as ssh-keygen writes it. */
    private static String privateKeyFile(byte[] publicBlob, byte[] privateFields, String comment, SecureRandom random) {
        int check = random.nextInt();
        Wire section = new Wire().uint32(check).uint32(check).raw(privateFields).string(comment);
        // Padded with 1, 2, 3, ... to the cipher's block size (8 for "none").
        for (int pad = 1; section.size() % 8 != 0; pad++) {
            section.raw(new byte[] {(byte) pad});
        }
        byte[] body = new Wire().raw(MAGIC).string("none").string("none").string(new byte[0]).uint32(1)
                .string(publicBlob).string(section.bytes()).bytes();
        String base64 = Base64.getEncoder().encodeToString(body);
        StringBuilder pem = new StringBuilder(BEGIN).append('\n');
        for (int i = 0; i < base64.length(); i += 70) {
            pem.append(base64, i, Math.min(base64.length(), i + 70)).append('\n');
        }
        return pem.append(END).append('\n').toString();
    }

    /**
     * The public key blob inside an openssh-key-v1 file, after checking that it is one unencrypted key;
     * with it a stored private key is matched against its {@code .pub} without parsing key material.
     */
    static byte[] publicBlobOf(String privateKeyFile) {
        int from = privateKeyFile.indexOf(BEGIN);
        int to = privateKeyFile.indexOf(END);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("not an OpenSSH private key (no " + BEGIN + ")");
        }
        byte[] body;
        try {
            body = Base64.getDecoder().decode(privateKeyFile.substring(from + BEGIN.length(), to).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an OpenSSH private key (bad base64)", e);
        }
        if (body.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(body, MAGIC.length), MAGIC)) {
            throw new IllegalArgumentException("not an openssh-key-v1 key");
        }
        Wire.Reader reader = new Wire.Reader(Arrays.copyOfRange(body, MAGIC.length, body.length));
        String cipher = reader.string();
        String kdf = reader.string();
        reader.bytes();
        if (!cipher.equals("none") || !kdf.equals("none")) {
            throw new IllegalArgumentException("the key is encrypted (" + cipher + "); sshd needs host keys without a passphrase");
        }
        if (reader.uint32() != 1) {
            throw new IllegalArgumentException("the file holds more than one key");
        }
        return reader.bytes();
    }

    /** The blob of a one-line public key ({@code <algorithm> <base64> [comment]}). */
    static byte[] publicBlobOfLine(String line) {
        String[] fields = line.strip().split("\\s+");
        if (fields.length < 2) {
            throw new IllegalArgumentException("not an SSH public key line");
        }
        byte[] blob = Base64.getDecoder().decode(fields[1]);
        if (!new Wire.Reader(blob).string().equals(fields[0])) {
            throw new IllegalArgumentException("the key's algorithm does not match its blob");
        }
        return blob;
    }

    private static void unsigned(BigInteger value, byte[] into, int offset, int length) {
        byte[] bytes = value.toByteArray();
        int copy = Math.min(bytes.length, length);
        System.arraycopy(bytes, bytes.length - copy, into, offset + length - copy, copy);
    }

    /** SSH's wire encoding (RFC 4251 section 5): uint32, string, mpint. */
    static final class Wire {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Wire uint32(int value) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(value).array());
            return this;
        }

        Wire string(byte[] value) {
            uint32(value.length);
            out.writeBytes(value);
            return this;
        }

        Wire string(String value) {
            return string(value.getBytes(StandardCharsets.UTF_8));
        }

        /** Two's complement, big-endian, minimal (a leading zero byte when the top bit is set). */
        Wire mpint(BigInteger value) {
            return string(value.signum() == 0 ? new byte[0] : value.toByteArray());
        }

        Wire raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        static final class Reader {
            private final ByteBuffer in;

            Reader(byte[] bytes) {
                in = ByteBuffer.wrap(bytes);
            }

            int uint32() {
                if (in.remaining() < 4) {
                    throw new IllegalArgumentException("truncated SSH key data");
                }
                return in.getInt();
            }

            byte[] bytes() {
                int length = uint32();
                if (length < 0 || length > in.remaining()) {
                    throw new IllegalArgumentException("truncated SSH key data");
                }
                byte[] value = new byte[length];
                in.get(value);
                return value;
            }

            String string() {
                return new String(bytes(), StandardCharsets.UTF_8);
            }
        }
    }
}
