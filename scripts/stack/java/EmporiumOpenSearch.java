// Single-node OpenSearch for the local stack: org.opensearch.node.Node with classpath plugins (as OpenSearch's MockNode).
// Compiled by scripts/stack/stack.sh into the cache; configured through system properties set by that script.
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public final class EmporiumOpenSearch {
  private static final String[] MODULES = {
    "org.opensearch.transport.Netty4Plugin",
    "org.opensearch.analysis.common.CommonAnalysisPlugin",
    "org.opensearch.index.mapper.MapperExtrasPlugin",
    "org.opensearch.index.reindex.ReindexPlugin",
    "org.opensearch.painless.PainlessPlugin",
    "org.opensearch.join.ParentJoinPlugin",
    "org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin",
    "org.opensearch.ingest.common.IngestCommonPlugin",
    "org.opensearch.script.mustache.MustachePlugin",
  };

  static final class LocalNode extends Node {
    LocalNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
      super(environment, plugins, true);
    }
  }

  private static String prop(String name, String fallback) {
    String value = System.getProperty(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  public static void main(String[] args) throws Exception {
    Path home = Paths.get(prop("emporium.os.home", ".stack/opensearch")).toAbsolutePath();
    Path data = home.resolve("data");
    Path logs = home.resolve("logs");
    Files.createDirectories(data);
    Files.createDirectories(logs);
    Files.createDirectories(home.resolve("plugins"));
    Files.createDirectories(home.resolve("config"));
    String nodeName = prop("emporium.os.node", "emporium-local-1");
    Settings settings = Settings.builder()
        .put("path.home", home.toString())
        .put("path.data", data.toString())
        .put("path.logs", logs.toString())
        .put("cluster.name", prop("emporium.os.cluster", "emporium-local"))
        .put("node.name", nodeName)
        .put("discovery.type", "single-node")
        .put("network.host", prop("emporium.os.host", "127.0.0.1"))
        .put("http.port", prop("emporium.os.http.port", "9200"))
        .put("transport.port", prop("emporium.os.transport.port", "9300"))
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .put("node.max_local_storage_nodes", 1)
        .build();
    Path log4j = home.resolve("config").resolve("log4j2.properties");
    Files.writeString(log4j, String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = " + prop("emporium.os.log.level", "info"),
        "rootLogger.appenderRef.console.ref = console",
        ""));
    LogConfigurator.registerErrorListener();
    LogConfigurator.setNodeName(nodeName);
    Environment environment =
        InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), home.resolve("config"), () -> nodeName);
    LogConfigurator.configure(environment);
    List<Class<? extends Plugin>> plugins = new ArrayList<>();
    for (String name : MODULES) {
      try {
        plugins.add(Class.forName(name).asSubclass(Plugin.class));
      } catch (ClassNotFoundException e) {
        System.err.println("[emporium] module class not on classpath, skipped: " + name);
      }
    }
    Node node = new LocalNode(environment, plugins);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
        node.awaitClose(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        e.printStackTrace();
      } finally {
        stopped.countDown();
      }
    }, "emporium-opensearch-shutdown"));
    node.start();
    System.out.println("[emporium] OpenSearch node started with " + plugins.size() + " classpath modules");
    stopped.await();
  }
}
