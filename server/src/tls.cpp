#include "paddock/server/tls.hpp"

#include <Poco/Net/SSLException.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace paddock::server {

namespace {

// TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only. TLS 1.3 keeps OpenSSL's defaults,
// which are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr unsigned char kTlsHandshakeRecord = 0x16;

// The reason of the oldest queued OpenSSL error (e.g. "wrong version number"); clears the queue.
std::string takeSslError(const char* fallback) {
    const unsigned long code = ERR_get_error();
    std::string text = fallback;
    if (code != 0) {
        const char* reason = ERR_reason_error_string(code);
        if (reason != nullptr) {
            text = reason;
        } else {
            char buffer[256];
            ERR_error_string_n(code, buffer, sizeof buffer);
            text = buffer;
        }
    }
    ERR_clear_error();
    return text;
}

class TlsTransport final : public Transport {
public:
    TlsTransport(int fd, SSL* ssl) noexcept : Transport(fd), ssl_(ssl) {}
    ~TlsTransport() override { SSL_free(ssl_); }

    bool secure() const noexcept override { return true; }
    bool plaintextPeer() const noexcept override { return plaintext_; }
    size_t buffered() const noexcept override { return static_cast<size_t>(std::max(0, SSL_pending(ssl_))); }

    IoResult handshake() override {
        if (!started_) {
            // Anything but a TLS handshake record is no TLS client: say so instead of letting
            // OpenSSL eat the bytes, so the server can answer a plain-HTTP client in plain HTTP.
            unsigned char first = 0;
            const ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
            if (n == 0) {
                error_ = "closed before the TLS handshake";
                return {IoStatus::Closed, 0};
            }
            if (n < 0) return errno == EINTR ? IoResult{IoStatus::WantRead, 0} : errnoResult(IoStatus::WantRead);
            if (first != kTlsHandshakeRecord) {
                plaintext_ = true;
                error_ = "the client sent no TLS handshake (plain HTTP to the HTTPS port?)";
                return {IoStatus::Error, 0};
            }
            started_ = true;
        }
        ERR_clear_error();
        const int r = SSL_do_handshake(ssl_);
        if (r == 1) {
            readWantsWrite_ = false;
            return {IoStatus::Done, 0};
        }
        return failure(r, true);
    }

    IoResult read(char* buffer, size_t size) override {
        ERR_clear_error();
        const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, INT_MAX)));
        if (n > 0) {
            readWantsWrite_ = false;
            return {IoStatus::Done, static_cast<size_t>(n)};
        }
        return failure(n, true);
    }

    IoResult write(std::string_view bytes) override {
        if (bytes.empty()) return {IoStatus::Done, 0};
        ERR_clear_error();
        const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
        if (n > 0) {
            writeWantsRead_ = false;
            return {IoStatus::Done, static_cast<size_t>(n)};
        }
        return failure(n, false);
    }

    void shutdownWrite() override {
        // A close_notify only on a healthy, established session; it may not fit the socket now,
        // and nobody waits for it: the TCP half-close follows either way.
        if (!broken_ && !shut_ && SSL_is_init_finished(ssl_)) {
            ERR_clear_error();
            SSL_shutdown(ssl_);
            ERR_clear_error();
        }
        shut_ = true;
        ::shutdown(fd_, SHUT_WR);
    }

private:
    IoResult failure(int r, bool reading) {
        const int savedErrno = errno;
        switch (SSL_get_error(ssl_, r)) {
            case SSL_ERROR_WANT_READ:
                if (reading)
                    readWantsWrite_ = false;
                else
                    writeWantsRead_ = true;
                return {IoStatus::WantRead, 0};
            case SSL_ERROR_WANT_WRITE:
                if (reading)
                    readWantsWrite_ = true;
                else
                    writeWantsRead_ = false;
                return {IoStatus::WantWrite, 0};
            case SSL_ERROR_ZERO_RETURN: error_ = "closed by the peer"; return {IoStatus::Closed, 0};
            case SSL_ERROR_SYSCALL:
                broken_ = true;
                if (ERR_peek_error() == 0 && savedErrno == 0) {
                    error_ = "closed by the peer";
                    return {IoStatus::Closed, 0};
                }
                error_ = ERR_peek_error() != 0 ? takeSslError("I/O error") : std::string(std::strerror(savedErrno));
                return {IoStatus::Error, 0};
            default:
                broken_ = true;
                error_ = takeSslError("TLS error");
                return {IoStatus::Error, 0};
        }
    }

    SSL* ssl_;
    bool started_ = false;  // the first byte was a TLS handshake record
    bool plaintext_ = false;
    bool broken_ = false;  // a fatal error: no close_notify may follow
    bool shut_ = false;
};

std::string certificateSummary(SSL_CTX* ctx, bool& expired) {
    X509* cert = SSL_CTX_get0_certificate(ctx);
    if (cert == nullptr) return "no certificate";
    char subject[512] = {0};
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    std::string until = "?";
    if (BIO* bio = BIO_new(BIO_s_mem())) {
        if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
            char* data = nullptr;
            const long size = BIO_get_mem_data(bio, &data);
            until.assign(data, static_cast<size_t>(size));
        }
        BIO_free(bio);
    }
    expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
    return std::string("certificate ") + subject + ", valid until " + until;
}

}  // namespace

TlsContext::TlsContext(Poco::Net::Context::Ptr context) : context_(std::move(context)) {
    summary_ = certificateSummary(context_->sslContext(), expired_);
}

Result<std::shared_ptr<const TlsContext>> TlsContext::load(const TlsConfig& config) {
    Poco::Net::Context::Params params;
    params.certificateFile = config.cert;
    params.privateKeyFile = config.key;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // no client certificates
    params.loadDefaultCAs = false;
    params.cipherList = kTls12Ciphers;
    params.ecdhCurve = kGroups;
    Poco::Net::Context::Ptr context;
    try {
        context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
        context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    } catch (const Poco::Exception& e) {
        ERR_clear_error();
        // Poco names which file failed ("Error loading private key ..." / "... certificate ...").
        const std::string text = e.displayText();
        const bool key = text.find("private key") != std::string::npos;
        return makeError(ErrorCode::InvalidArgument, std::string(key ? "server.tls.key: cannot use '" + config.key
                                                                     : "server.tls.cert: cannot use '" + config.cert) +
                                                         "': " + text);
    }
    SSL_CTX* ctx = context->sslContext();
    if (SSL_CTX_check_private_key(ctx) != 1)
        return makeError(ErrorCode::InvalidArgument,
                         "server.tls.key: '" + config.key + "' is not the private key of the certificate in '" +
                             config.cert + "' (server.tls.cert): " + takeSslError("key mismatch"));
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Partial writes and moving buffers suit our output queues; released buffers keep idle
    // connections small; no auto-retry on a non-blocking socket.
    SSL_CTX_set_mode(ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
    context->enableSessionCache(true, "paddockd");
    ERR_clear_error();
    return std::shared_ptr<const TlsContext>(std::make_shared<TlsContext>(std::move(context)));
}

std::unique_ptr<Transport> TlsContext::accept(int fd) const {
    SSL* ssl = SSL_new(context_->sslContext());
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        ::close(fd);
        return nullptr;
    }
    SSL_set_accept_state(ssl);
    return std::make_unique<TlsTransport>(fd, ssl);
}

}  // namespace paddock::server
