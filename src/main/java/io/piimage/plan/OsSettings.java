package io.piimage.plan;

import java.util.List;

/**
 * The plan's {@code os:} section, defaults filled. {@code user} is null when the plan leaves it to the
 * image's usual user; {@code locale} is null when unset; an empty {@code ntpServers} keeps the
 * distribution's.
 */
public record OsSettings(
        String image,
        String user,
        List<String> sshAuthorizedKeys,
        String timezone,
        String locale,
        List<String> ntpServers,
        List<RegistryMirror> registryMirrors) {

    public OsSettings {
        sshAuthorizedKeys = List.copyOf(sshAuthorizedKeys);
        ntpServers = List.copyOf(ntpServers);
        registryMirrors = List.copyOf(registryMirrors);
    }
}
