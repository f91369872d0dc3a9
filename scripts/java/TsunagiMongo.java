/*
 * TsunagiMongo: starts mongo-java-server on a chosen host and port.
 *
 * The jars' own main classes always bind 27017 on every interface; the
 * project needs loopback-only servers on ports of its choosing (one for the
 * local run, another for the test suite), so this launcher takes them as
 * arguments. With an H2 file the data survives restarts; without one the
 * in-memory backend is used, which is what the tests want.
 *
 * Port 0 picks a free port; the line printed at start names the real one,
 * which lets parallel test runs each have their own server.
 *
 * Usage: java -cp <jars>:<classes> TsunagiMongo <host> <port> [h2-file]
 */
import java.net.InetSocketAddress;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

public class TsunagiMongo {
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: TsunagiMongo <host> <port> [h2-file]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        MongoBackend backend = args.length == 3 ? new H2Backend(args[2]) : new MemoryBackend();
        MongoServer server = new MongoServer(backend);
        /* Shut down on SIGTERM so H2 flushes its file before the JVM exits. */
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        server.bind(host, port);
        InetSocketAddress bound = server.getLocalAddress();
        System.out.println("mongo-java-server listening on " + host + ":" + bound.getPort()
                           + (args.length == 3 ? " (h2: " + args[2] + ")" : " (memory)"));
        System.out.flush();
        Thread.currentThread().join();
    }
}
