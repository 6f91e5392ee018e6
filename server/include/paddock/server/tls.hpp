// TLS on paddockd's own port (server.tls). One server context, made once at startup through
// Poco's NetSSL (Poco::Net::Context loads the certificate chain and the key), restricted to
// TLS 1.2 and 1.3 with forward-secret AEAD cipher suites and without renegotiation. Each
// accepted connection gets a TLS transport (transport.hpp) driving OpenSSL's SSL* over the
// non-blocking socket, so the handshake and every record are just more non-blocking steps of
// the server's event loops (Poco's SecureStreamSocket blocks in its handshake; the loops cannot).
// Thread-safe: accept() may be called from any thread; a transport is used by one thread at a time.
#pragma once

#include "paddock/core/config.hpp"
#include "paddock/core/result.hpp"
#include "paddock/server/transport.hpp"

#include <Poco/Net/Context.h>

#include <memory>
#include <string>

namespace paddock::server {

class TlsContext {
public:
    // Loads `config`'s certificate chain and key and checks that they belong together.
    // InvalidArgument naming the key (server.tls.cert or server.tls.key) and OpenSSL's reason
    // when a file cannot be used.
    static Result<std::shared_ptr<const TlsContext>> load(const TlsConfig& config);

    // A TLS transport over the accepted, connected, non-blocking socket `fd`, which it owns from
    // now on; its handshake() is still to be driven. nullptr, with `fd` closed, when OpenSSL
    // cannot make a session (out of memory).
    std::unique_ptr<Transport> accept(int fd) const;

    // For the startup log: the certificate's subject and validity end.
    const std::string& summary() const noexcept { return summary_; }
    // The certificate's validity has ended (clients will refuse it).
    bool expired() const noexcept { return expired_; }

    explicit TlsContext(Poco::Net::Context::Ptr context);

private:
    Poco::Net::Context::Ptr context_;
    std::string summary_;
    bool expired_ = false;
};

}  // namespace paddock::server
