#include "paddock/core/ssh_client.hpp"

#include "paddock/core/ssh_identity.hpp"

#include <libssh2.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

namespace paddock {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxOutput = 1 << 20;

void initLibssh2Once() {
    static std::once_flag once;
    std::call_once(once, [] { libssh2_init(0); });
}

class Socket {
public:
    Socket() = default;
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

Status connectWithDeadline(Socket& sock, const std::string& host, uint16_t port, Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
        return makeError(ErrorCode::Unavailable, "cannot resolve " + host + ": " + ::gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);

    std::string lastError = "no address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        sock.reset(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
        if (sock.fd() < 0) continue;
        if (::connect(sock.fd(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            lastError = std::strerror(errno);
            continue;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd pfd{sock.fd(), POLLOUT, 0};
        if (left <= 0 || ::poll(&pfd, 1, static_cast<int>(left)) != 1) {
            lastError = "connect timed out";
            continue;
        }
        int soError = 0;
        socklen_t len = sizeof soError;
        ::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &soError, &len);
        if (soError != 0) {
            lastError = std::strerror(soError);
            continue;
        }
        // libssh2 runs blocking with its own timeout from here on.
        ::fcntl(sock.fd(), F_SETFL, ::fcntl(sock.fd(), F_GETFL) & ~O_NONBLOCK);
        return {};
    }
    return makeError(ErrorCode::Unavailable, "cannot connect to " + host + ":" + service + ": " + lastError);
}

std::string base64NoPadding(const unsigned char* data, size_t n) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; ++i) {
        buf = (buf << 8) | data[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(buf >> bits) & 0x3F];
        }
    }
    if (bits > 0) out += alphabet[(buf << (6 - bits)) & 0x3F];
    return out;
}

std::string hostKeyType(int type) {
    switch (type) {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
        case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
#ifdef LIBSSH2_HOSTKEY_TYPE_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
#endif
#ifdef LIBSSH2_HOSTKEY_TYPE_ED25519
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
#endif
        default: return "unknown";
    }
}

std::string sessionError(LIBSSH2_SESSION* session) {
    char* msg = nullptr;
    libssh2_session_last_error(session, &msg, nullptr, 0);
    return msg != nullptr ? msg : "unknown libssh2 error";
}

// Waits until `fd` has delivered "SSH-", the start of the server's identification line.
// flags MSG_PEEK leaves the bytes queued for whoever reads next (libssh2's handshake); 0 reads
// them. Silence until `deadline` is `silentCode`; a connection closed first, or a server that
// does not speak SSH, is Unavailable.
Status waitForBanner(int fd, const std::string& host, uint16_t port, Clock::time_point deadline, int flags,
                     ErrorCode silentCode) {
    const std::string where = host + ":" + std::to_string(port);
    std::string seen;
    while (seen.size() < 4) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd pfd{fd, POLLIN, 0};
        if (left <= 0 || ::poll(&pfd, 1, static_cast<int>(left)) != 1)
            return makeError(silentCode, "no SSH banner from " + where + " yet");
        char buf[64];
        const ssize_t n = ::recv(fd, buf, flags == MSG_PEEK ? 4 : sizeof buf, flags);
        if (n <= 0) return makeError(ErrorCode::Unavailable, "connection to " + where + " closed before the SSH banner");
        if (flags == MSG_PEEK) {
            // Each peek sees everything queued, so it replaces; the rest of a split line
            // follows within moments.
            seen.assign(buf, static_cast<size_t>(n));
            if (seen.size() < 4) ::usleep(10000);
        } else {
            seen.append(buf, static_cast<size_t>(n));
        }
    }
    if (seen.compare(0, 4, "SSH-") != 0) return makeError(ErrorCode::Unavailable, where + " does not speak SSH");
    return {};
}

// An authenticated session; everything is torn down in reverse order on destruction.
class Session {
public:
    ~Session() {
        if (session_ != nullptr) {
            libssh2_session_disconnect(session_, "paddock done");
            libssh2_session_free(session_);
        }
    }

    // bannerTimeout > 0: first wait that long for the server's identification line on the new
    // connection (peeked, so libssh2 still reads it) before the handshake starts.
    Status open(const SshEndpoint& ep, std::chrono::milliseconds timeout,
                std::chrono::milliseconds bannerTimeout = std::chrono::milliseconds(0)) {
        const std::string& pinned = ep.pinned_host_key;
        initLibssh2Once();
        const auto deadline = Clock::now() + timeout;
        if (auto c = connectWithDeadline(socket_, ep.host, ep.port, deadline); !c) return c;
        if (bannerTimeout.count() > 0) {
            if (auto b = waitForBanner(socket_.fd(), ep.host, ep.port, std::min(deadline, Clock::now() + bannerTimeout),
                                       MSG_PEEK, ErrorCode::Timeout);
                !b)
                return b;
        }
        session_ = libssh2_session_init();
        if (session_ == nullptr) return makeError(ErrorCode::Internal, "libssh2_session_init failed");
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        libssh2_session_set_timeout(session_, left > 0 ? left : 1);
        libssh2_session_set_blocking(session_, 1);
        // A run-out deadline is Timeout (the server is there, just slow: the readiness probe gives
        // a starved guest more time on its next attempt); anything else Unavailable.
        if (const int rc = libssh2_session_handshake(session_, socket_.fd()); rc != 0)
            return makeError(rc == LIBSSH2_ERROR_TIMEOUT ? ErrorCode::Timeout : ErrorCode::Unavailable,
                             "SSH handshake with " + ep.host + ":" + std::to_string(ep.port) +
                                 " failed: " + sessionError(session_));
        size_t keyLen = 0;
        int keyType = 0;
        const char* key = libssh2_session_hostkey(session_, &keyLen, &keyType);
        hostKey_.type = hostKeyType(keyType);
        if (key != nullptr && keyLen > 0)
            hostKey_.public_key = base64Encode(std::string(key, keyLen));
        const char* hash = libssh2_hostkey_hash(session_, LIBSSH2_HOSTKEY_HASH_SHA256);
        if (hash != nullptr)
            hostKey_.fingerprint = "SHA256:" + base64NoPadding(reinterpret_cast<const unsigned char*>(hash), 32);
        // Checked before authenticating: a host that changed its key gets nothing from us.
        if (!pinned.empty() && hostKey_.fingerprint != pinned)
            return makeError(ErrorCode::Conflict, "SSH host key of " + ep.host + ":" + std::to_string(ep.port) +
                                                      " does not match the pinned key: expected " + pinned + ", got " +
                                                      (hostKey_.fingerprint.empty() ? "none" : hostKey_.fingerprint) +
                                                      " (refused; if the VM was rebuilt, clear its pinned host_key)");
        if (const int rc = libssh2_userauth_publickey_fromfile(session_, ep.user.c_str(), ep.public_key_path.c_str(),
                                                               ep.private_key_path.c_str(), nullptr);
            rc != 0)
            return makeError(rc == LIBSSH2_ERROR_TIMEOUT ? ErrorCode::Timeout : ErrorCode::Unauthorized,
                             "SSH key authentication as '" + ep.user + "' at " + ep.host + ":" +
                                 std::to_string(ep.port) + " failed: " + sessionError(session_));
        return {};
    }

    LIBSSH2_SESSION* get() const { return session_; }
    int fd() const { return socket_.fd(); }
    const SshHostKey& hostKey() const { return hostKey_; }

private:
    Socket socket_;
    LIBSSH2_SESSION* session_ = nullptr;
    SshHostKey hostKey_;
};

}  // namespace

struct SshConnection::Impl {
    Session session;
};

SshConnection::SshConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SshConnection::~SshConnection() = default;
LIBSSH2_SESSION* SshConnection::session() const noexcept { return impl_->session.get(); }
int SshConnection::socket() const noexcept { return impl_->session.fd(); }
const SshHostKey& SshConnection::hostKey() const noexcept { return impl_->session.hostKey(); }

Result<std::unique_ptr<SshConnection>> SshConnection::open(const SshEndpoint& endpoint,
                                                           std::chrono::milliseconds timeout) {
    auto impl = std::make_unique<Impl>();
    if (auto opened = impl->session.open(endpoint, timeout); !opened) return std::move(opened).error();
    return std::unique_ptr<SshConnection>(new SshConnection(std::move(impl)));
}

Status awaitSshBanner(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    Socket sock;
    if (auto c = connectWithDeadline(sock, host, port, deadline); !c) return c;
    return waitForBanner(sock.fd(), host, port, deadline, 0, ErrorCode::Unavailable);
}

Result<SshHostKey> probeSsh(const SshEndpoint& endpoint, std::chrono::milliseconds timeout) {
    Session session;
    if (auto opened = session.open(endpoint, timeout); !opened) return std::move(opened).error();
    return session.hostKey();
}

Result<SshHostKey> probeSshOnBanner(const SshEndpoint& endpoint, std::chrono::milliseconds bannerTimeout,
                                    std::chrono::milliseconds timeout) {
    Session session;
    if (auto opened = session.open(endpoint, timeout, bannerTimeout); !opened) return std::move(opened).error();
    return session.hostKey();
}

Result<SshCommandResult> runSshCommand(const SshEndpoint& endpoint, const std::string& command,
                                       std::chrono::milliseconds timeout) {
    Session session;
    if (auto opened = session.open(endpoint, timeout); !opened) return std::move(opened).error();
    LIBSSH2_CHANNEL* channel = libssh2_channel_open_session(session.get());
    if (channel == nullptr)
        return makeError(ErrorCode::Unavailable, "cannot open an SSH channel: " + sessionError(session.get()));
    std::unique_ptr<LIBSSH2_CHANNEL, int (*)(LIBSSH2_CHANNEL*)> guard(channel, &libssh2_channel_free);
    if (libssh2_channel_exec(channel, command.c_str()) != 0)
        return makeError(ErrorCode::Unavailable, "cannot run the command: " + sessionError(session.get()));

    SshCommandResult result;
    result.host_key = session.hostKey();
    std::array<char, 16384> buf{};
    for (;;) {
        const ssize_t n = libssh2_channel_read(channel, buf.data(), buf.size());
        if (n > 0) {
            if (result.output.size() < kMaxOutput) result.output.append(buf.data(), static_cast<size_t>(n));
            continue;
        }
        if (n == 0) break;
        return makeError(n == LIBSSH2_ERROR_TIMEOUT ? ErrorCode::Timeout : ErrorCode::Unavailable,
                         "reading the command's output failed: " + sessionError(session.get()));
    }
    libssh2_channel_close(channel);
    libssh2_channel_wait_closed(channel);
    result.exit_status = libssh2_channel_get_exit_status(channel);
    return result;
}

std::string knownHostsLine(const std::string& host, uint16_t port, const SshHostKey& key) {
    if (key.public_key.empty() || key.type.empty() || key.type == "unknown") return {};
    const std::string name = port == 22 ? host : "[" + host + "]:" + std::to_string(port);
    return name + " " + key.type + " " + key.public_key;
}

}  // namespace paddock
