package io.piimage.status;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * A STAND-IN for kube-apiserver, not the real thing: a JDK HTTPS server on one loopback address that
 * presents a serving certificate signed by the cluster CA, demands a client certificate the cluster CA
 * signed (as the apiserver does for admin.conf), and answers {@code GET /readyz} and
 * {@code GET /api/v1/nodes} (a NodeList with each node's Ready condition, which tests change).
 */
final class StandInApiServer implements AutoCloseable {

    private final HttpsServer server;
    /** node name to its Ready condition status ("True", "False"); absent means not registered. */
    final Map<String, String> nodes = new ConcurrentHashMap<>();
    final List<String> clients = new CopyOnWriteArrayList<>();
    final AtomicInteger nodeListRequests = new AtomicInteger();

    StandInApiServer(String address, int port, SSLContext context) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName(address), port), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters parameters = context.getDefaultSSLParameters();
                parameters.setNeedClientAuth(true);
                params.setSSLParameters(parameters);
            }
        });
        server.createContext("/readyz", exchange -> {
            record(((com.sun.net.httpserver.HttpsExchange) exchange).getSSLSession());
            respond(exchange, 200, "ok", "text/plain");
        });
        server.createContext("/api/v1/nodes", exchange -> {
            record(((com.sun.net.httpserver.HttpsExchange) exchange).getSSLSession());
            nodeListRequests.incrementAndGet();
            respond(exchange, 200, nodeList(), "application/json");
        });
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread thread = new Thread(r, "stand-in-apiserver");
            thread.setDaemon(true);
            return thread;
        }));
        server.start();
    }

    private void record(SSLSession session) {
        try {
            clients.add(((java.security.cert.X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal().getName());
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            clients.add("anonymous");
        }
    }

    private String nodeList() {
        StringBuilder json = new StringBuilder("{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"items\":[");
        boolean first = true;
        for (Map.Entry<String, String> node : new java.util.TreeMap<>(nodes).entrySet()) {
            if (!first) {
                json.append(',');
            }
            first = false;
            json.append("{\"metadata\":{\"name\":\"").append(node.getKey()).append("\"},\"status\":{\"conditions\":[")
                    .append("{\"type\":\"MemoryPressure\",\"status\":\"False\"},")
                    .append("{\"type\":\"Ready\",\"status\":\"").append(node.getValue()).append("\"}]}}");
        }
        return json.append("]}").toString();
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, String body, String type) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
