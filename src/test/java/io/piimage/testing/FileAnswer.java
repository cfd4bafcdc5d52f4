package io.piimage.testing;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The test servers' one way to answer a GET or HEAD with a file under a root, logging each request. */
public final class FileAnswer {

    private FileAnswer() {
    }

    /**
     * Answers {@code exchange} with the file at its path after {@code prefix}, resolved under {@code root}
     * (404 outside it or when missing), and appends "METHOD PATH STATUS" to {@code requests}.
     */
    public static void answer(HttpExchange exchange, Path root, String prefix, List<String> requests) throws IOException {
        String uri = exchange.getRequestURI().getPath();
        Path file = uri.startsWith(prefix) ? root.resolve(uri.substring(prefix.length())).normalize() : null;
        boolean found = file != null && file.startsWith(root) && Files.isRegularFile(file);
        requests.add(exchange.getRequestMethod() + " " + uri + " " + (found ? 200 : 404));
        if (!found) {
            exchange.sendResponseHeaders(404, -1);
        } else if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().add("Content-Length", String.valueOf(Files.size(file)));
            exchange.sendResponseHeaders(200, -1);
        } else {
            exchange.sendResponseHeaders(200, Files.size(file));
            try (OutputStream out = exchange.getResponseBody()) {
                Files.copy(file, out);
            }
        }
        exchange.close();
    }
}
