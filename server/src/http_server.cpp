#include "paddock/server/http_server.hpp"

#include "paddock/server/tls.hpp"
#include "paddock/server/transport.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace paddock::server {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenerKey = 0;
constexpr uint64_t kWakeKey = 1;
constexpr uint64_t kFirstConnectionId = 2;
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxReadPerEvent = 256 * 1024;  // per connection per turn, for fairness
constexpr uint64_t kDrainCap = 1024 * 1024;      // a refused body up to this size is read and dropped
constexpr auto kDeadlineScan = std::chrono::milliseconds(100);
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr int kMaxEvents = 256;
// A shared body (Response::sharedBody, a kept listing) at least this large is sent from where it
// is kept, after the head (Transport::writePair); a smaller one is copied after the head, which
// costs less than a second piece to send (and, over TLS, a record of its own for the head).
constexpr size_t kSharedBodyMinBytes = 4 * 1024;

std::string peerAddress(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (addr.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, text, sizeof text);
    } else if (addr.ss_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, text, sizeof text);
    }
    return text[0] != '\0' ? std::string(text) : std::string("unknown");
}

// Where the client reached us on `fd`, as a URL authority: "127.0.0.1:8000", "[::1]:8000".
std::string localAuthority(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
    const std::string host = peerAddress(addr);
    const uint16_t port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(addr).sin6_port
                                                           : reinterpret_cast<const sockaddr_in&>(addr).sin_port);
    return (addr.ss_family == AF_INET6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A refusal written before any request was read: best effort, the socket is closed right after.
void refuseAtAccept(int fd, const std::string& json) {
    const std::string bytes = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(json.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + json;
    [[maybe_unused]] const auto sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

struct HttpServer::Impl {
    // Handshake: TLS only, before the first request (its deadline is head_timeout).
    // Linger: the answer is out and the write side shut; what the client still sends is read
    // and dropped until it closes, so an early answer (413, 408) is not lost to a reset.
    enum class Phase { Handshake, Head, Body, Discard, Processing, Write, Linger };

    struct Connection {
        uint64_t id = 0;
        std::unique_ptr<Transport> transport;
        int fd = -1;  // the transport's, for epoll
        std::string peer;
        std::string local;  // the address:port the client connected to
        Phase phase = Phase::Head;
        bool idle = true;  // in Head with nothing of the next request yet
        std::string in;    // received, not yet consumed
        std::string out;   // to send
        // Sent after `out`: a response's shared body, not copied (Response::sharedBody). Set only
        // in Write, with nothing queued behind it, and dropped when all is sent or the
        // connection closes.
        std::shared_ptr<const std::string> outBody;
        size_t outSent = 0;  // of `out` then `outBody`
        Clock::time_point deadline;
        size_t requests = 0;    // answered so far
        uint32_t interest = 0;  // the epoll events asked for now
        std::unique_ptr<HttpExchange> exchange;
        uint64_t bodyLeft = 0;  // Body with Content-Length, and Discard
        std::optional<wire::ChunkedDecoder> chunked;
        bool headRequest = false;
        bool keepAlive = true;
        bool closeAfterWrite = false;
        UpgradeHandOver upgrade;
        std::optional<Response> refusal;  // answered after Discard
        BodySource stream;                // a streamed body's next pieces, framed (wire::framedBody)
    };

    struct Completion {
        uint64_t id;
        std::string bytes;
        bool keepAlive;
        UpgradeHandOver upgrade;
        BodySource stream = {};                        // set: more pieces follow once `bytes` are out
        std::shared_ptr<const std::string> body = {};  // set: sent after `bytes` (Connection::outBody)
    };

    // A request for a handler, or (no exchange) the next piece of a streamed body.
    struct Task {
        uint64_t id;
        std::unique_ptr<HttpExchange> exchange;
        bool headRequest;
        bool keepAlive;
        BodySource stream = {};
    };

    Impl(Poco::Net::ServerSocket socket, RequestHandler& handler, HttpServerLimits limits,
         prometheus::Registry& registry, Poco::Logger& logger, std::shared_ptr<const TlsContext> tls)
        : listener(std::move(socket)),
          handler(handler),
          limits(std::move(limits)),
          logger(logger),
          tls(std::move(tls)),
          open(prometheus::BuildGauge()
                   .Name("paddock_http_open_connections")
                   .Help("Client HTTP connections open now (WebSockets handed to the hub not included)")
                   .Register(registry)
                   .Add({})),
          refused(prometheus::BuildCounter()
                      .Name("paddock_http_refused_connections_total")
                      .Help("Connections or requests refused before a handler ran, by reason")
                      .Register(registry)),
          timeouts(prometheus::BuildCounter()
                       .Name("paddock_http_timeouts_total")
                       .Help("Connections closed because a phase missed its deadline, by phase")
                       .Register(registry)),
          handshakeFailures(prometheus::BuildCounter()
                                .Name("paddock_http_tls_handshake_failures_total")
                                .Help("TLS connections closed before their handshake completed, by reason")
                                .Register(registry)) {}

    // ---- shared state ---------------------------------------------------------------------
    Poco::Net::ServerSocket listener;
    RequestHandler& handler;
    HttpServerLimits limits;
    Poco::Logger& logger;
    const std::shared_ptr<const TlsContext> tls;  // null: plain HTTP
    prometheus::Gauge& open;
    prometheus::Family<prometheus::Counter>& refused;
    prometheus::Family<prometheus::Counter>& timeouts;
    prometheus::Family<prometheus::Counter>& handshakeFailures;

    int epfd = -1;
    int wakeFd = -1;
    std::atomic<bool> stopping{false};
    std::atomic<size_t> connectionCount{0};
    Clock::time_point stopDeadline{};
    std::thread io;
    std::vector<std::thread> workers;

    std::mutex taskMutex;
    std::condition_variable taskReady;
    std::deque<Task> tasks;
    bool workersStopping = false;

    std::mutex doneMutex;
    std::vector<Completion> done;

    // ---- I/O thread only ------------------------------------------------------------------
    std::map<uint64_t, std::unique_ptr<Connection>> connections;
    std::map<std::string, size_t> perClient;
    uint64_t nextId = kFirstConnectionId;
    bool listening = true;

    void wake() {
        const uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wakeFd, &one, sizeof one);
    }

    void watch(Connection& c, uint32_t events) {
        if (c.interest == events) return;
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = c.id;
        ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
        c.interest = events;
    }

    // Whether output is queued and not yet sent.
    static bool unsent(const Connection& c) { return c.outSent < c.out.size() + (c.outBody ? c.outBody->size() : 0); }

    // A response's bytes appended to `bytes`; a large shared body is not copied but handed back
    // in `body`, to follow `bytes` on the wire (kSharedBodyMinBytes).
    void serialize(const Response& response, bool headRequest, bool keepAlive, bool chunked, std::string& bytes,
                   std::shared_ptr<const std::string>& body) const {
        const std::string_view sent = wire::responseBody(response, headRequest);
        if (response.sharedBody && sent.size() >= kSharedBodyMinBytes) {
            bytes += wire::serializeHead(response, keepAlive, limits.server_header, chunked);
            body = response.sharedBody;
        } else if (bytes.empty()) {
            bytes = wire::serializeResponse(response, headRequest, keepAlive, limits.server_header, chunked);
        } else {
            bytes += wire::serializeResponse(response, headRequest, keepAlive, limits.server_header, chunked);
        }
    }

    static bool reading(Phase phase) {
        return phase == Phase::Handshake || phase == Phase::Head || phase == Phase::Body || phase == Phase::Discard ||
               phase == Phase::Linger;
    }

    // What the connection waits for now: input in the reading phases, room while output is
    // queued; a TLS read that must first write waits for room instead of input, a TLS write
    // that must first read for input instead of room.
    void rearm(Connection& c) {
        const Transport& t = *c.transport;
        const bool lingering = c.phase == Phase::Linger;  // raw reads only: TLS state no longer matters
        uint32_t events = 0;
        if ((reading(c.phase) && (lingering || !t.wantsWrite())) || (!lingering && t.writeWantsRead()))
            events |= EPOLLIN;
        if ((unsent(c) && !t.writeWantsRead()) || (!lingering && t.wantsWrite())) events |= EPOLLOUT;
        watch(c, events);
    }

    void close(uint64_t id) {
        const auto it = connections.find(id);
        if (it == connections.end()) return;
        Connection& c = *it->second;
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
        release(c);
        connections.erase(it);  // the transport closes the socket
    }

    // Forgets a connection's counts (closed, or handed over to the WebSocket hub).
    void release(const Connection& c) {
        if (auto p = perClient.find(c.peer); p != perClient.end() && --p->second == 0) perClient.erase(p);
        --connectionCount;
        open.Decrement();
    }

    // ---- accepting --------------------------------------------------------------------------
    void acceptAll() {
        const int listenFd = listener.impl()->sockfd();
        for (;;) {
            sockaddr_storage addr{};
            socklen_t len = sizeof addr;
            const int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR) continue;
                if (errno == EMFILE || errno == ENFILE)
                    logger.warning("accept: out of file descriptors (%s)", std::string(std::strerror(errno)));
                return;  // EAGAIN, or an error that the next readiness will retry
            }
            const std::string peer = peerAddress(addr);
            const char* reason = nullptr;
            std::string message;
            if (stopping) {
                reason = "stopping";
                message = "paddockd is shutting down";
            } else if (connectionCount >= limits.max_connections) {
                reason = "total_cap";
                message =
                    "too many open connections (server.max_connections " + std::to_string(limits.max_connections) + ")";
            } else if (perClient[peer] >= limits.max_connections_per_client) {
                reason = "client_cap";
                message = "too many open connections from " + peer + " (server.max_connections_per_client " +
                          std::to_string(limits.max_connections_per_client) + ")";
            }
            if (reason != nullptr) {
                if (auto p = perClient.find(peer); p != perClient.end() && p->second == 0) perClient.erase(p);
                refused.Add({{"reason", reason}}).Increment();
                // A TLS client could read the refusal only after a handshake, which would cost
                // the very resources the cap protects: it just sees the connection close.
                if (!tls)
                    refuseAtAccept(fd, handler.errorAnswer(makeError(ErrorCode::Unavailable, message), nullptr).body);
                ::close(fd);
                continue;
            }
            const int on = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            auto c = std::make_unique<Connection>();
            c->id = nextId++;
            c->transport = tls ? tls->accept(fd) : makePlainTransport(fd);
            if (!c->transport) continue;  // closed already
            c->fd = fd;
            c->peer = peer;
            c->local = localAuthority(fd);
            c->phase = tls ? Phase::Handshake : Phase::Head;
            // A new connection must start a request soon (and finish its handshake before that).
            c->deadline = Clock::now() + limits.head_timeout;
            c->interest = EPOLLIN;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = c->id;
            if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) continue;  // the socket closes with `c`
            ++perClient[peer];
            ++connectionCount;
            open.Increment();
            connections.emplace(c->id, std::move(c));
        }
    }

    // ---- the TLS handshake ------------------------------------------------------------------
    void handshake(Connection& c) {
        Transport& t = *c.transport;
        const IoResult r = t.handshake();
        switch (r.status) {
            case IoStatus::Done:
                c.phase = Phase::Head;
                c.idle = true;
                c.deadline = Clock::now() + limits.head_timeout;
                rearm(c);
                // The first request may have arrived with the handshake's last flight.
                if (!readSome(c)) {
                    close(c.id);
                    return;
                }
                advance(c);
                return;
            case IoStatus::WantRead:
            case IoStatus::WantWrite: rearm(c); return;
            case IoStatus::Closed:
            case IoStatus::Error: break;
        }
        if (t.plaintextPeer()) {
            // Plain HTTP on the HTTPS port: answer it in plain HTTP, then close.
            handshakeFailures.Add({{"reason", "plaintext"}}).Increment();
            c.transport = makePlainTransport(t.release());
            c.phase = Phase::Head;
            c.keepAlive = false;
            refuse(c, ErrorCode::InvalidArgument, "this port serves HTTPS only: use https://", true, 400);
            return;
        }
        handshakeFailures.Add({{"reason", r.status == IoStatus::Closed ? "closed" : "protocol"}}).Increment();
        logger.debug("TLS handshake with %s failed: %s", c.peer, t.error());
        close(c.id);
    }

    // ---- reading and framing ----------------------------------------------------------------
    // False when the peer closed or the connection failed.
    bool readSome(Connection& c) {
        Transport& t = *c.transport;
        if (c.phase == Phase::Linger) {
            const IoStatus status = t.discardInput().status;
            return status == IoStatus::Done || status == IoStatus::WantRead;
        }
        char buffer[kReadChunk];
        size_t total = 0;
        // A decoded TLS record left in the transport would never wake epoll: take it too.
        while (total < kMaxReadPerEvent || t.buffered() > 0) {
            const IoResult r = t.read(buffer, sizeof buffer);
            if (r.status == IoStatus::Done) {
                c.in.append(buffer, r.bytes);
                total += r.bytes;
                continue;
            }
            if (r.status == IoStatus::WantRead || r.status == IoStatus::WantWrite) {
                rearm(c);  // a TLS read may wait for room now
                return true;
            }
            return false;
        }
        return true;
    }

    void answer(Connection& c, Response response, bool close) {
        c.closeAfterWrite = close || !c.keepAlive;
        serialize(response, c.headRequest, !c.closeAfterWrite, true, c.out, c.outBody);  // outBody was unset
        c.phase = Phase::Write;
        c.deadline = Clock::now() + limits.write_timeout;
        flush(c);
    }

    // An answer from the server itself, before or instead of the handler; recorded like any other.
    void refuse(Connection& c, ErrorCode code, const std::string& message, bool close, int status = 0) {
        HttpExchange& x = ensureExchange(c);
        x.response = handler.errorAnswer(makeError(code, message), &x);
        if (status != 0) x.response.status = status;
        handler.record(x);
        answer(c, std::move(x.response), close);
    }

    HttpExchange& ensureExchange(Connection& c) {
        if (!c.exchange) {
            c.exchange = std::make_unique<HttpExchange>();
            c.exchange->peer = c.peer;
            c.exchange->local = c.local;
            c.exchange->secure = c.transport->secure();
        }
        return *c.exchange;
    }

    // Moves the connection on as far as its buffered input allows.
    void advance(Connection& c) {
        for (;;) {
            switch (c.phase) {
                case Phase::Head:
                    if (!readHead(c)) return;
                    break;
                case Phase::Body:
                    if (!readBody(c)) return;
                    break;
                case Phase::Discard: {
                    const size_t n = static_cast<size_t>(std::min<uint64_t>(c.bodyLeft, c.in.size()));
                    c.in.erase(0, n);
                    c.bodyLeft -= n;
                    if (c.bodyLeft > 0) return;
                    Response refusal = std::move(*c.refusal);
                    c.refusal.reset();
                    answer(c, std::move(refusal), false);
                    return;
                }
                case Phase::Linger: c.in.clear(); return;
                case Phase::Handshake:
                case Phase::Processing:
                case Phase::Write: return;
            }
        }
    }

    // False: wait for more input (or the connection is answered/closed).
    bool readHead(Connection& c) {
        if (c.in.empty()) return false;
        if (c.idle) {
            // The whole head must arrive within head_timeout of its first byte.
            c.idle = false;
            c.deadline = Clock::now() + limits.head_timeout;
        }
        const auto end = wire::headEnd(std::string_view(c.in).substr(0, limits.max_head_bytes + 4));
        if (!end || *end > limits.max_head_bytes) {
            if (c.in.size() > limits.max_head_bytes) {
                refused.Add({{"reason", "head_too_large"}}).Increment();
                refuse(c, ErrorCode::InvalidArgument,
                       "request head larger than " + std::to_string(limits.max_head_bytes) + " bytes", true, 431);
            }
            return false;
        }
        auto head = wire::parseHead(std::string_view(c.in).substr(0, *end));
        c.in.erase(0, *end);
        if (!head) {
            refuse(c, ErrorCode::InvalidArgument, head.error().message, true);
            return false;
        }
        c.exchange.reset();
        HttpExchange& x = ensureExchange(c);
        x.head = std::move(head.value());
        c.headRequest = x.head.method == "HEAD";
        c.keepAlive = x.head.keep_alive && c.requests + 1 < limits.max_requests_per_connection && !stopping;
        if (!handler.admit(x)) {
            handler.record(x);
            if (!x.head.hasBody()) {
                answer(c, std::move(x.response), false);
            } else if (x.head.content_length && *x.head.content_length <= kDrainCap) {
                // Read and drop the body so the client sees the answer and may keep the connection.
                c.refusal = std::move(x.response);
                c.bodyLeft = *x.head.content_length;
                c.phase = Phase::Discard;
                c.deadline = Clock::now() + limits.body_timeout;
                return true;
            } else {
                answer(c, std::move(x.response), true);
            }
            return false;
        }
        if (x.head.content_length && *x.head.content_length > limits.max_body_bytes) {
            refuse(c, ErrorCode::PayloadTooLarge,
                   "request body is larger than the limit of " + std::to_string(limits.max_body_bytes) +
                       " bytes (server.max_body_bytes)",
                   true);
            return false;
        }
        if (!x.head.hasBody()) {
            dispatch(c);
            return false;
        }
        if (x.head.expect_continue) c.out += wire::continueResponse();  // sent when the socket has room
        if (x.head.chunked)
            c.chunked.emplace(limits.max_body_bytes);
        else
            c.chunked.reset();
        c.bodyLeft = x.head.content_length.value_or(0);
        c.phase = Phase::Body;
        c.deadline = Clock::now() + limits.body_timeout;
        rearm(c);
        return true;
    }

    bool readBody(Connection& c) {
        HttpExchange& x = *c.exchange;
        if (c.chunked) {
            std::string_view input(c.in);
            auto finished = c.chunked->feed(input, x.request.body);
            c.in.erase(0, c.in.size() - input.size());
            if (!finished) {
                refuse(c, finished.error().code, finished.error().message, true);
                return false;
            }
            if (!finished.value()) return false;
        } else {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(c.bodyLeft, c.in.size()));
            x.request.body.append(c.in, 0, n);
            c.in.erase(0, n);
            c.bodyLeft -= n;
            if (c.bodyLeft > 0) return false;
        }
        dispatch(c);
        return false;
    }

    void dispatch(Connection& c) {
        {
            std::lock_guard lock(taskMutex);
            if (tasks.size() < limits.max_queued_requests) {
                tasks.push_back(Task{c.id, std::move(c.exchange), c.headRequest, c.keepAlive});
                c.phase = Phase::Processing;
                taskReady.notify_one();
            }
        }
        if (c.phase == Phase::Processing) {
            rearm(c);
            return;
        }
        refused.Add({{"reason", "busy"}}).Increment();
        refuse(c, ErrorCode::Unavailable,
               "paddockd is busy: " + std::to_string(limits.max_queued_requests) + " requests are waiting; retry later",
               false);
    }

    // ---- writing ----------------------------------------------------------------------------
    // Output only grows at its end until it is all sent, so a TLS write that has to be
    // repeated always starts with the same bytes (transport.hpp); nothing is added behind a
    // shared body (outBody), which is sent only in Write.
    void flush(Connection& c) {
        while (unsent(c)) {
            const size_t fromOut = std::min(c.outSent, c.out.size());
            const std::string_view rest = std::string_view(c.out).substr(fromOut);
            const std::string_view body =
                c.outBody ? std::string_view(*c.outBody).substr(c.outSent - fromOut) : std::string_view();
            const IoResult r = c.transport->writePair(rest, body);
            if (r.status == IoStatus::Done) {
                c.outSent += r.bytes;
                continue;
            }
            if (r.status == IoStatus::WantRead || r.status == IoStatus::WantWrite) {
                rearm(c);
                return;
            }
            close(c.id);
            return;
        }
        c.out.clear();
        c.outBody.reset();
        c.outSent = 0;
        if (c.phase == Phase::Write && c.stream) {
            pullPiece(c);
        } else if (c.phase == Phase::Write) {
            written(c);
        } else {
            rearm(c);
        }
    }

    // The client has taken everything so far: a worker makes the next piece. Not counted against
    // max_queued_requests: the request was admitted already, and refusing now would cut its body.
    void pullPiece(Connection& c) {
        {
            std::lock_guard lock(taskMutex);
            tasks.push_back(Task{c.id, nullptr, false, c.keepAlive, std::move(c.stream)});
            taskReady.notify_one();
        }
        c.stream = nullptr;
        c.phase = Phase::Processing;
        rearm(c);
    }

    // The answer is out: hand over, close, or wait for the next request.
    void written(Connection& c) {
        if (c.upgrade) {
            auto upgrade = std::move(c.upgrade);
            std::unique_ptr<Transport> transport = std::move(c.transport);
            ::epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
            release(c);
            connections.erase(c.id);  // `c` is gone; the transport goes on to the hub
            try {
                upgrade(std::move(transport));
            } catch (const std::exception& e) {
                logger.error("WebSocket hand-over failed: %s", std::string(e.what()));
            }
            return;
        }
        if (c.closeAfterWrite) {
            c.transport->shutdownWrite();
            c.phase = Phase::Linger;
            c.in.clear();
            c.deadline = Clock::now() + kLingerTime;
            rearm(c);
            return;
        }
        ++c.requests;
        c.exchange.reset();
        c.phase = Phase::Head;
        c.idle = true;
        c.deadline = Clock::now() + limits.idle_timeout;
        rearm(c);
        advance(c);  // a pipelined request may be waiting in the buffer already
    }

    void complete(Completion completion) {
        const auto it = connections.find(completion.id);
        if (it == connections.end()) return;  // the client went away meanwhile
        Connection& c = *it->second;
        c.upgrade = std::move(completion.upgrade);
        c.closeAfterWrite = !completion.keepAlive;
        c.keepAlive = completion.keepAlive;
        c.stream = std::move(completion.stream);
        // Usually nothing is waiting: take the bytes rather than copy a large body again. Only
        // a 100 Continue may be (Processing follows the last answer's end): outBody is unset.
        if (c.out.empty())
            c.out = std::move(completion.bytes);
        else
            c.out += completion.bytes;
        c.outBody = std::move(completion.body);
        c.phase = Phase::Write;
        c.deadline = Clock::now() + limits.write_timeout;
        flush(c);
    }

    // ---- deadlines --------------------------------------------------------------------------
    void expire(Clock::time_point now) {
        std::vector<uint64_t> late;
        for (const auto& [id, c] : connections)
            if (c->phase != Phase::Processing && now >= c->deadline) late.push_back(id);
        for (const uint64_t id : late) {
            Connection& c = *connections.at(id);
            switch (c.phase) {
                case Phase::Handshake:
                    // A TLS client cannot read a plain 408: it just loses the connection.
                    timeouts.Add({{"phase", "handshake"}}).Increment();
                    handshakeFailures.Add({{"reason", "timeout"}}).Increment();
                    close(id);
                    break;
                case Phase::Head:
                    if (c.idle) {
                        timeouts.Add({{"phase", "idle"}}).Increment();
                        close(id);
                    } else {
                        timeouts.Add({{"phase", "head"}}).Increment();
                        c.keepAlive = false;
                        refuse(c, ErrorCode::Timeout,
                               "the request head did not arrive within " + std::to_string(limits.head_timeout.count()) +
                                   " ms",
                               true, 408);
                    }
                    break;
                case Phase::Body:
                case Phase::Discard:
                    timeouts.Add({{"phase", "body"}}).Increment();
                    c.keepAlive = false;
                    refuse(
                        c, ErrorCode::Timeout,
                        "the request body did not arrive within " + std::to_string(limits.body_timeout.count()) + " ms",
                        true, 408);
                    break;
                case Phase::Write:
                    timeouts.Add({{"phase", "write"}}).Increment();
                    close(id);
                    break;
                case Phase::Linger: close(id); break;
                case Phase::Processing: break;
            }
        }
    }

    // ---- the threads ------------------------------------------------------------------------
    void ioLoop() {
        std::vector<epoll_event> events(kMaxEvents);
        auto nextScan = Clock::now() + kDeadlineScan;
        for (;;) {
            if (stopping && finishedStopping()) break;
            const auto untilScan = std::chrono::duration_cast<std::chrono::milliseconds>(nextScan - Clock::now());
            const int n = ::epoll_wait(epfd, events.data(), kMaxEvents,
                                       static_cast<int>(std::max<int64_t>(0, untilScan.count())));
            for (int i = 0; i < n; ++i) {
                const uint64_t key = events[i].data.u64;
                if (key == kListenerKey) {
                    acceptAll();
                } else if (key == kWakeKey) {
                    uint64_t count = 0;
                    [[maybe_unused]] const auto r = ::read(wakeFd, &count, sizeof count);
                    std::vector<Completion> batch;
                    {
                        std::lock_guard lock(doneMutex);
                        batch.swap(done);
                    }
                    for (auto& completion : batch) complete(std::move(completion));
                } else {
                    onEvent(key, events[i].events);
                }
            }
            const auto now = Clock::now();
            if (now >= nextScan) {
                expire(now);
                nextScan = now + kDeadlineScan;
            }
        }
        for (auto it = connections.begin(); it != connections.end();) close((it++)->first);
    }

    void onEvent(uint64_t id, uint32_t events) {
        const auto it = connections.find(id);
        if (it == connections.end()) return;
        Connection& c = *it->second;
        const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
        const bool writable = (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
        if (c.phase == Phase::Handshake) {
            handshake(c);
            return;
        }
        const Transport& t = *c.transport;
        // Each operation is retried on the readiness it waits for (see rearm()).
        if (unsent(c) && (t.writeWantsRead() ? readable : writable)) {
            flush(c);
            if (!connections.count(id)) return;
        }
        if (reading(c.phase) && (c.phase != Phase::Linger && t.wantsWrite() ? writable : readable)) {
            if (!readSome(c)) {
                close(id);
                return;
            }
            advance(c);
        } else if ((events & (EPOLLHUP | EPOLLERR)) != 0 && c.phase != Phase::Processing) {
            close(id);
        }
    }

    // While stopping: no more accepts, idle connections go at once, the rest may finish until
    // the grace period ends.
    bool finishedStopping() {
        if (listening) {
            ::epoll_ctl(epfd, EPOLL_CTL_DEL, listener.impl()->sockfd(), nullptr);
            try {
                listener.close();
            } catch (const Poco::Exception&) {}
            listening = false;
        }
        std::vector<uint64_t> idle;
        for (auto& [id, c] : connections) {
            c->keepAlive = false;
            if ((c->phase == Phase::Head && c->in.empty()) || c->phase == Phase::Linger || c->phase == Phase::Handshake)
                idle.push_back(id);
        }
        for (const uint64_t id : idle) close(id);
        return connections.empty() || Clock::now() >= stopDeadline;
    }

    void workerLoop() {
        for (;;) {
            Task task;
            {
                std::unique_lock lock(taskMutex);
                taskReady.wait(lock, [&] { return workersStopping || !tasks.empty(); });
                if (tasks.empty()) return;
                task = std::move(tasks.front());
                tasks.pop_front();
            }
            Completion completion = task.exchange ? answerRequest(task) : nextPiece(task);
            {
                std::lock_guard lock(doneMutex);
                done.push_back(std::move(completion));
            }
            wake();
        }
    }

    // A worker: runs the handler and makes the answer's bytes (with a streamed body's first piece).
    Completion answerRequest(Task& task) {
        HttpExchange& x = *task.exchange;
        handler.invoke(x);
        // A server that is stopping says so, so the client does not send another request.
        Completion completion{task.id, {}, task.keepAlive && !stopping, {}};
        if (x.response.upgrade) {
            auto accept = wire::websocketAccept(x.head);
            if (accept) {
                completion.bytes = wire::websocketHandshakeResponse(accept.value(), limits.server_header);
                completion.upgrade = std::move(x.response.upgrade);
                x.response = Response{};
                x.response.status = 101;
            } else {
                x.response = handler.errorAnswer(
                    makeError(ErrorCode::InvalidArgument, "WebSocket handshake refused: " + accept.error().message),
                    &x);
            }
        }
        if (!completion.upgrade) {
            const bool chunked = x.head.version != "HTTP/1.0";
            serialize(x.response, task.headRequest, completion.keepAlive, chunked, completion.bytes, completion.body);
            if (x.response.stream && !task.headRequest && wire::statusHasBody(x.response.status)) {
                if (!chunked) completion.keepAlive = false;  // the close ends the body
                appendPiece(wire::framedBody(std::move(x.response.stream), chunked), completion);
            }
        }
        handler.record(x);
        return completion;
    }

    // A worker: the piece after the last one of a streamed body.
    Completion nextPiece(Task& task) {
        Completion completion{task.id, {}, task.keepAlive && !stopping, {}};
        appendPiece(std::move(task.stream), completion);
        return completion;
    }

    // A worker: the next piece of a streamed body (already framed) into `completion`, and the
    // source again when more follows. A failing source ends the connection with the body
    // unfinished.
    void appendPiece(BodySource source, Completion& completion) {
        Result<bool> more = false;
        try {
            more = source(completion.bytes);
        } catch (const std::exception& e) {
            more = makeError(ErrorCode::Internal, e.what());
        }
        if (!more) {
            logger.warning("a streamed response body failed after its head was sent: %s", more.error().message);
            completion.keepAlive = false;
            return;
        }
        if (more.value()) completion.stream = std::move(source);
    }
};

HttpServer::HttpServer(Poco::Net::ServerSocket socket, RequestHandler& handler, HttpServerLimits limits,
                       prometheus::Registry& registry, Poco::Logger& logger, std::shared_ptr<const TlsContext> tls)
    : impl_(std::make_unique<Impl>(std::move(socket), handler, std::move(limits), registry, logger, std::move(tls))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    Impl& s = *impl_;
    s.epfd = ::epoll_create1(EPOLL_CLOEXEC);
    s.wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s.epfd < 0 || s.wakeFd < 0) throw std::runtime_error(std::string("epoll/eventfd: ") + std::strerror(errno));
    s.listener.setBlocking(false);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerKey;
    ::epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.listener.impl()->sockfd(), &ev);
    ev.data.u64 = kWakeKey;
    ::epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.wakeFd, &ev);
    for (unsigned i = 0; i < std::max(1u, s.limits.workers); ++i) s.workers.emplace_back([&s] { s.workerLoop(); });
    s.io = std::thread([&s] { s.ioLoop(); });
}

void HttpServer::stop(std::chrono::milliseconds grace) {
    Impl& s = *impl_;
    if (!s.io.joinable()) return;
    s.stopDeadline = Clock::now() + grace;
    s.stopping = true;
    s.wake();
    s.io.join();
    {
        std::lock_guard lock(s.taskMutex);
        s.workersStopping = true;
        s.tasks.clear();  // their connections are closed already
    }
    s.taskReady.notify_all();
    for (auto& w : s.workers) w.join();
    s.workers.clear();
    ::close(s.wakeFd);
    ::close(s.epfd);
}

size_t HttpServer::connections() const { return impl_->connectionCount; }

}  // namespace paddock::server
