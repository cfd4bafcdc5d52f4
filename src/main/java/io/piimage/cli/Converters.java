package io.piimage.cli;

import io.piimage.pki.KeyAlgorithm;
import io.piimage.plan.Cidr;
import io.piimage.plan.Cni;
import io.piimage.plan.Ipv4;
import io.piimage.plan.LoadBalancerMode;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * How option values become typed values, for every command at once: a value that does not convert is
 * a usage error (exit 2) naming the values that would have worked. Enums are spelled as in the plan
 * (their {@code key()}: {@code vip-only}, {@code ecdsa-p256}), case-insensitively.
 */
final class Converters {

    private Converters() {
    }

    static void register(CommandLine commandLine) {
        commandLine.registerConverter(LoadBalancerMode.class, keyed(LoadBalancerMode.values(), LoadBalancerMode::key));
        commandLine.registerConverter(KeyAlgorithm.class, keyed(KeyAlgorithm.values(), KeyAlgorithm::key));
        commandLine.registerConverter(Cni.class, keyed(Cni.values(), Cni::key));
        commandLine.registerConverter(Ipv4.class, parsed(Ipv4::parse));
        commandLine.registerConverter(Cidr.class, parsed(Cidr::parse));
        commandLine.registerConverter(Duration.class, new DurationConverter());
    }

    /** One of {@code values}, by its plan spelling. */
    static <E extends Enum<E>> ITypeConverter<E> keyed(E[] values, Function<E, String> key) {
        return text -> Arrays.stream(values)
                .filter(v -> key.apply(v).equalsIgnoreCase(text.strip()))
                .findFirst()
                .orElseThrow(() -> new TypeConversionException("'" + text + "' is not one of "
                        + Arrays.stream(values).map(key).collect(Collectors.joining(", "))));
    }

    /** A value type whose parse method throws IllegalArgumentException with a reason. */
    static <T> ITypeConverter<T> parsed(Function<String, T> parse) {
        return text -> {
            try {
                return parse.apply(text.strip());
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        };
    }

    /** Lower-case spelling of an enum's constant names (none, xz, gz), for enums without a plan spelling. */
    static <E extends Enum<E>> ITypeConverter<E> lowerCase(E[] values) {
        return keyed(values, v -> v.name().toLowerCase(Locale.ROOT));
    }
}
