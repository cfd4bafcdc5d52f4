import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * bench/keygen.sh's workload: the six RSA-2048 key pairs of a first bake, from the JDK's provider, on
 * two threads as piimage makes them. Each key's SecureRandom (SHA1PRNG) is seeded with SEED + its
 * index, so every run searches the same candidates and only the JVM's settings differ between runs.
 */
public final class SixRsaKeys {
    public static void main(String[] args) throws Exception {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 100;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> keys = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long keySeed = seed + i;
            keys.add(pool.submit(() -> {
                SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
                random.setSeed(keySeed);
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(new RSAKeyGenParameterSpec(2048, RSAKeyGenParameterSpec.F4), random);
                return generator.generateKeyPair();
            }));
        }
        for (Future<?> key : keys) {
            key.get();
        }
        pool.shutdown();
    }
}
