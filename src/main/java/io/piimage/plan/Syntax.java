package io.piimage.plan;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Small syntax checks and the "did you mean" helper the plan loader shares. */
final class Syntax {

    private Syntax() {
    }

    /** RFC 1123 label as Kubernetes uses it for names: also a valid hostname. */
    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?");
    /** Kubernetes label name (and the name part of a label key or taint key). */
    static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    /** Linux allows 15 bytes (IFNAMSIZ - 1); '/', ':' and blanks break the tools that take the name. */
    static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** What useradd accepts by default on Debian and Ubuntu (NAME_REGEX). */
    static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    static final Pattern LOCALE = Pattern.compile(
            "C|POSIX|C\\.(UTF-8|utf8)|[a-z]{2,3}(_[A-Z]{2})?(\\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?");

    static final String DNS_LABEL_RULE =
            "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

    static boolean isDnsLabel(String text) {
        return DNS_LABEL.matcher(text).matches();
    }

    /** Lowercase dot-separated labels, as cluster.dnsDomain must be. */
    static boolean isDnsDomain(String text) {
        if (text.isEmpty() || text.length() > 253) {
            return false;
        }
        for (String label : text.split("\\.", -1)) {
            if (!isDnsLabel(label)) {
                return false;
            }
        }
        return true;
    }

    /** A hostname in any case (search domains, NTP servers, registry hosts). */
    static boolean isHostname(String text) {
        if (text.isEmpty() || text.length() > 253) {
            return false;
        }
        for (String label : text.split("\\.", -1)) {
            if (!HOST_LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    static boolean isInterfaceName(String text) {
        return INTERFACE.matcher(text).matches() && !text.equals(".") && !text.equals("..");
    }

    static boolean isUserName(String text) {
        return USER.matcher(text).matches();
    }

    static boolean isLocale(String text) {
        return LOCALE.matcher(text).matches();
    }

    /** "host" or "host:port", as image references name a registry. */
    static boolean isRegistryHost(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            return isHostname(text);
        }
        String port = text.substring(colon + 1);
        return isHostname(text.substring(0, colon)) && isPort(port);
    }

    private static boolean isPort(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return false;
        }
        int port = Integer.parseInt(text);
        return port >= 1 && port <= 65535;
    }

    /** True for an http:// or https:// URL with a host, the only endpoints containerd mirrors take. */
    static boolean isHttpUrl(String text) {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme();
            return scheme != null && (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /**
     * Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63
     * characters [A-Za-z0-9._-] starting and ending alphanumeric. Null when valid, else the reason.
     */
    static String labelKeyProblem(String key) {
        String name = key;
        int slash = key.indexOf('/');
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            name = key.substring(slash + 1);
            if (!isDnsDomain(prefix)) {
                return "its prefix '" + prefix + "' is not a lowercase DNS name";
            }
        }
        if (name.length() > 63) {
            return "its name is longer than 63 characters";
        }
        if (!LABEL_NAME.matcher(name).matches()) {
            return "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                    + " (optionally after a DNS prefix and '/')";
        }
        return null;
    }

    /** Kubernetes label value: empty, or like a label name. Null when valid, else the reason. */
    static String labelValueProblem(String value) {
        if (value.isEmpty()) {
            return null;
        }
        if (value.length() > 63) {
            return "it is longer than 63 characters";
        }
        if (!LABEL_NAME.matcher(value).matches()) {
            return "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
        }
        return null;
    }

    static final Set<String> SSH_KEY_TYPES = Set.of(
            "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
            "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");

    /**
     * An authorized_keys line: [options] type base64 [comment]. The base64 blob must be a whole key of
     * that type, which catches keys cut short when copied. Null when valid, else the reason;
     * the reason never repeats the text, as a pasted private key must not end up in a log.
     */
    static String sshKeyProblem(String line) {
        if (line.contains("PRIVATE KEY")) {
            return "this is a private key; paste the public key (the .pub file) instead";
        }
        if (line.strip().contains("\n")) {
            return "an SSH public key is a single line";
        }
        String[] words = line.strip().split("\\s+");
        for (int i = 0; i + 1 < words.length; i++) {
            if (SSH_KEY_TYPES.contains(words[i])) {
                return blobMatches(words[i], words[i + 1]) ? null
                        : "the " + words[i] + " key data is damaged or cut short; copy the whole line again";
            }
        }
        return "does not look like an SSH public key (expected 'ssh-ed25519 AAAA... comment',"
                + " a line of ~/.ssh/id_ed25519.pub)";
    }

    /**
     * The wire format (RFC 4253 6.6) is a run of length-prefixed fields, the first being the type name;
     * a key cut short ends inside a field. An ed25519 key's one field is its 32-byte point.
     */
    private static boolean blobMatches(String type, String base64) {
        try {
            ByteBuffer blob = ByteBuffer.wrap(Base64.getDecoder().decode(base64));
            List<byte[]> fields = new ArrayList<>();
            while (blob.hasRemaining()) {
                int length = blob.getInt();
                if (length < 0 || length > blob.remaining()) {
                    return false;
                }
                byte[] field = new byte[length];
                blob.get(field);
                fields.add(field);
            }
            if (fields.size() < 2 || !new String(fields.get(0), StandardCharsets.US_ASCII).equals(type)) {
                return false;
            }
            return !type.equals("ssh-ed25519") || (fields.size() == 2 && fields.get(1).length == 32);
        } catch (IllegalArgumentException | java.nio.BufferUnderflowException e) {
            return false;
        }
    }

    /**
     * "; did you mean 'x'?" when a candidate matches ignoring case or is within edit distance 2 (but not
     * a complete rewrite of a short word), else "". Case-insensitive matches win, then the closest.
     */
    static String didYouMean(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            if (candidate.equalsIgnoreCase(word)) {
                return "; did you mean '" + candidate + "'?";
            }
            // Lengths further apart than 2 cannot be within distance 2; skipping them keeps a huge value cheap.
            if (Math.abs(word.length() - candidate.length()) > 2) {
                continue;
            }
            int distance = levenshtein(word.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (distance <= 2 && distance < candidate.length() && distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
