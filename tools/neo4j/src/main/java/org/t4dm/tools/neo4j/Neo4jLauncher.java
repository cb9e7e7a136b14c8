package org.t4dm.tools.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * A Neo4j Community DBMS for tests: Bolt on 127.0.0.1:PORT and nothing else.
 *
 * <pre>java -jar neo4j-launcher.jar --port PORT --home DIR</pre>
 *
 * With T4DM_NEO4J_LAUNCHER_PASSWORD set, auth is on and user neo4j has that password;
 * otherwise auth is off. Prints one line {@code READY bolt://127.0.0.1:PORT} once Bolt
 * accepts connections, and shuts the DBMS down cleanly on stdin EOF or SIGTERM, so a
 * test harness that dies takes the server with it. Exits 2 on a bad argument and 1 when
 * the DBMS cannot start (a port in use among them), with the reason on stderr.
 */
public final class Neo4jLauncher {
  static final String PASSWORD_ENV = "T4DM_NEO4J_LAUNCHER_PASSWORD";
  private static final String USER = "neo4j";

  private Neo4jLauncher() {}

  public static void main(String[] args) {
    Integer port = null;
    Path home = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--port" -> port = value == null ? null : Integer.valueOf(value);
        case "--home" -> home = value == null ? null : Path.of(value);
        default -> usage("unknown argument " + args[i]);
      }
      i++;
    }
    if (port == null || port <= 0 || port > 65535) usage("--port 1..65535 is required");
    if (home == null) usage("--home DIR is required");
    String password = System.getenv(PASSWORD_ENV);

    DatabaseManagementService dbms;
    try {
      Files.createDirectories(home);
      dbms = start(home, port, password);
    } catch (Throwable error) {
      System.err.println("neo4j-launcher: cannot start Neo4j on 127.0.0.1:" + port + ": " + rootMessage(error));
      error.printStackTrace(System.err);
      System.exit(1);
      return;
    }

    AtomicBoolean stopped = new AtomicBoolean();
    Runnable stop = () -> {
      if (stopped.compareAndSet(false, true)) dbms.shutdown();
    };
    // SIGTERM and SIGINT run shutdown hooks; SIGKILL is the caller's way to simulate a crash.
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "neo4j-launcher-shutdown"));

    System.out.println("READY bolt://127.0.0.1:" + port);
    System.out.flush();

    drain(System.in);
    stop.run();
    System.exit(0);
  }

  private static DatabaseManagementService start(Path home, int port, String password) {
    boolean auth = password != null && !password.isEmpty();
    DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
        .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(HttpConnector.enabled, false)
        .setConfig(HttpsConnector.enabled, false)
        .setConfig(GraphDatabaseSettings.auth_enabled, auth)
        // Small, so several test servers fit on a 2-core CI machine beside everything else.
        .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(64))
        .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
        // Netty's 5 s quiet period, twice, would make every stop take 10 s; the databases are
        // checkpointed before Bolt stops, so nothing is lost by not waiting.
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
        .build();
    try {
      if (auth) setInitialPassword(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
      // The default database is online once this answers.
      dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
    } catch (RuntimeException error) {
      dbms.shutdown();
      throw error;
    }
    return dbms;
  }

  /**
   * A new home's user still has the default password, flagged for change; set ours then. A
   * restart over the same home keeps the password it was first given (Neo4j refuses to
   * "change" a password to itself).
   */
  private static void setInitialPassword(GraphDatabaseService system, String password) {
    boolean fresh = system.executeTransactionally(
        "SHOW USERS YIELD user, passwordChangeRequired WHERE user = $user RETURN passwordChangeRequired",
        Map.of("user", USER),
        result -> result.hasNext() && Boolean.TRUE.equals(result.next().get("passwordChangeRequired")));
    if (fresh) {
      system.executeTransactionally(
          "ALTER USER " + USER + " SET PLAINTEXT PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
    }
  }

  private static void drain(InputStream in) {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // Input is ignored; only its end matters.
      }
    } catch (IOException closed) {
      // A broken stdin means the parent is gone: stop as for EOF.
    }
  }

  private static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return root == error ? String.valueOf(error) : error + " (caused by " + root + ")";
  }

  private static void usage(String problem) {
    System.err.println("neo4j-launcher: " + problem);
    System.err.println("usage: java -jar neo4j-launcher.jar --port PORT --home DIR   (password from $" + PASSWORD_ENV + ", auth off if unset)");
    System.exit(2);
  }
}
