package io.piimage.render;

import freemarker.core.TemplateClassResolver;
import freemarker.template.Configuration;
import freemarker.template.Template;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import freemarker.template.TemplateMethodModelEx;
import freemarker.template.TemplateModelException;
import freemarker.template.utility.DeepUnwrap;
import io.piimage.util.Quoting;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FreeMarker configured for generating configuration files: strict (a missing value is an error, not
 * an empty string), no auto-escaping, no access to arbitrary Java classes from templates, and a
 * {@code q()} function that quotes a value as a YAML double-quoted scalar.
 */
public final class Templates {

    static {
        // FreeMarker would log through java.util.logging, whose set-up costs every bake start-up time;
        // it has nothing to say that a RenderException does not (template exceptions are not logged).
        if (System.getProperty("org.freemarker.loggerLibrary") == null) {
            System.setProperty("org.freemarker.loggerLibrary", "none");
        }
    }

    private final TemplateSource source;
    private final Configuration configuration;
    /** Each template parsed once, or why it did not parse (FreeMarker's own second answer says less). */
    private final Map<String, Parsed> cache = new HashMap<>();

    private record Parsed(Template template, IOException failure) {
    }

    public Templates(TemplateSource source) {
        this.source = source;
        configuration = new Configuration(Configuration.VERSION_2_3_34);
        configuration.setDefaultEncoding("UTF-8");
        configuration.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        configuration.setLogTemplateExceptions(false);
        configuration.setWrapUncheckedExceptions(true);
        configuration.setFallbackOnNullLoopVariable(false);
        configuration.setNumberFormat("computer");
        configuration.setBooleanFormat("c");
        configuration.setNewBuiltinClassResolver(TemplateClassResolver.ALLOWS_NOTHING_RESOLVER);
        configuration.setAPIBuiltinEnabled(false);
        configuration.setSharedVariable("q", (TemplateMethodModelEx) Templates::quoteFunction);
        configuration.setTemplateLoader(new freemarker.cache.TemplateLoader() {
            @Override
            public Object findTemplateSource(String name) {
                return source.read(name).orElse(null);
            }

            @Override
            public long getLastModified(Object templateSource) {
                return -1;
            }

            @Override
            public java.io.Reader getReader(Object templateSource, String encoding) {
                return new StringReader((String) templateSource);
            }

            @Override
            public void closeTemplateSource(Object templateSource) {
            }
        });
    }

    public TemplateSource source() {
        return source;
    }

    public boolean exists(String name) {
        return source.read(name).isPresent();
    }

    /** Text a template produced, and the file mode it asked for with {@code <#global mode = "0600">}. */
    public record Rendered(String text, Integer mode) {
    }

    /**
     * Parses the named templates now, so that rendering finds them ready: a bake calls this on another
     * thread while the plan loads. A template that does not parse is left for {@link #render} to
     * report, with its name and line, if a node needs it.
     */
    public void parseAhead(List<String> names) {
        for (String name : names) {
            cache.computeIfAbsent(name, this::parse);
        }
    }

    /** Renders a named template; errors name the template, line and the missing value. */
    public String render(String name, Map<String, ?> model) throws RenderException {
        return renderWithMode(name, model).text();
    }

    public Rendered renderWithMode(String name, Map<String, ?> model) throws RenderException {
        try {
            Parsed parsed = cache.computeIfAbsent(name, this::parse);
            if (parsed.failure() != null) {
                throw parsed.failure();
            }
            Template template = parsed.template();
            StringWriter out = new StringWriter();
            freemarker.core.Environment environment = template.createProcessingEnvironment(model, out);
            environment.process();
            Integer mode = null;
            freemarker.template.TemplateModel modeValue = environment.getGlobalVariable("mode");
            if (modeValue != null) {
                String octal = String.valueOf(DeepUnwrap.unwrap(modeValue));
                if (!octal.matches("0?[0-7]{3}")) {
                    throw new RenderException("template " + name + ": mode '" + octal + "' is not an octal file mode", null);
                }
                mode = Integer.parseInt(octal, 8);
            }
            return new Rendered(out.toString(), mode);
        } catch (TemplateException e) {
            throw new RenderException("template " + name + ": " + firstLine(e.getMessage())
                    + (e.getLineNumber() != null ? " (line " + e.getLineNumber() + ")" : ""), e);
        } catch (IOException e) {
            throw new RenderException("template " + name + ": " + e.getMessage(), e);
        }
    }

    private Parsed parse(String name) {
        try {
            return new Parsed(configuration.getTemplate(name), null);
        } catch (IOException e) {
            return new Parsed(null, e);
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    private static Object quoteFunction(List<?> arguments) throws TemplateModelException {
        if (arguments.size() != 1) {
            throw new TemplateModelException("q() takes one argument");
        }
        Object value = DeepUnwrap.unwrap((freemarker.template.TemplateModel) arguments.get(0));
        return Quoting.yaml(String.valueOf(value));
    }
}
