"""A TCP relay to the real Redis at 127.0.0.1:6379 on a port of the test's own, that the
test can break the way a Redis breaks in production, with real sockets:

- stop(): nothing listens on the port (connections are refused, fast);
- silence(): the port accepts connections but nothing comes back, on new connections and
  on the ones already open (a Redis overloaded or paused, a half-open connection);
- unreachable(): new connections never complete (a host that drops packets: the port's
  accept queue is full, so the kernel drops the SYNs);
- start(): forwards every connection to the Redis again.
"""
import socket
import threading
import time

REDIS = ("127.0.0.1", 6379)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class Relay:
    def __init__(self, port):
        self.port = port
        self.listener = None
        self.blackhole = []
        self.connections = []
        self.silent = False
        self.accepting = True
        self.swallowed = 0       # what came in while silent: about one per command
        self.lock = threading.Lock()

    def start(self):
        self._close_blackhole()
        self._cut_connections()  # any held without an answer: their clients gave up
        self.silent = False
        if self.listener is None:
            self._listen()
        elif not self.accepting:
            self.listener.listen()
            self.accepting = True

    def _listen(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.1)
        self.listener = listener
        self.accepting = True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while self.listener is listener:
            if not self.accepting:
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self.silent:  # accepted, held, never answered
                with self.lock:
                    self.connections.append(client)
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            upstream = socket.create_connection(REDIS)
            with self.lock:
                self.connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _swallow(self, client):
        try:
            while client.recv(65536):
                self.swallowed += 1
        except OSError:
            pass

    def _pump(self, source, target):
        try:
            while data := source.recv(65536):
                if self.silent:  # what is sent is swallowed
                    self.swallowed += 1
                else:
                    target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def silence(self):
        self._close_blackhole()
        self.silent = True
        if self.listener is None:
            self._listen()

    def unreachable(self):
        self.silent = True  # open connections: no answer
        if self.listener is None:
            self._listen()
        self.accepting = False
        self.listener.listen(0)  # one connection fills the queue; it is not accepted
        self.blackhole = [socket.create_connection(("127.0.0.1", self.port))]

    def stop(self):
        self._close_listener()
        self._close_blackhole()
        self._cut_connections()

    def _close_listener(self):
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()

    def _close_blackhole(self):
        blackhole, self.blackhole = self.blackhole, []  # the connection that fills the queue
        for sock in blackhole:
            _close(sock)

    def _cut_connections(self):
        with self.lock:
            connections, self.connections = self.connections, []
        for sock in connections:
            _close(sock)
