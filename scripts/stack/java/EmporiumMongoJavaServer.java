// mongo-java-server (de.bwaldvogel) on loopback for the local stack: H2 (persistent file) or in-memory backend.
// Compiled by scripts/stack/stack.sh into the cache; configured through system properties set by that script.
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

public final class EmporiumMongoJavaServer {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("emporium.mongo.host", "127.0.0.1");
    int port = Integer.parseInt(System.getProperty("emporium.mongo.port", "27018"));
    String backendName = System.getProperty("emporium.mongo.backend", "h2");
    MongoBackend backend;
    if (backendName.equals("memory")) {
      backend = new MemoryBackend();
    } else {
      Path file = Paths.get(System.getProperty("emporium.mongo.file", ".stack/mongo-java/data.mv")).toAbsolutePath();
      Files.createDirectories(file.getParent());
      backend = new H2Backend(file.toString());
    }
    MongoServer server = new MongoServer(backend);
    server.enableOplog();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.shutdownNow();
      } finally {
        stopped.countDown();
      }
    }, "emporium-mongo-shutdown"));
    server.bind(host, port);
    System.out.println("[emporium] mongo-java-server (" + backendName + " backend) listening on " + host + ":" + port);
    stopped.await();
  }
}
