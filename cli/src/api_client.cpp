#include "paddock/cli/api_client.hpp"

#include "paddock/cli/table.hpp"
#include "paddock/server/json.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/URI.h>

#include <cctype>

namespace paddock::cli {

namespace {

constexpr size_t kMaxErrorMessage = 2000;

ErrorCode codeForStatus(int status) {
    switch (status) {
    case 401: return ErrorCode::Unauthorized;
    case 403: return ErrorCode::Forbidden;
    case 404: return ErrorCode::NotFound;
    case 409: return ErrorCode::Conflict;
    case 413: return ErrorCode::PayloadTooLarge;
    case 415: return ErrorCode::UnsupportedMediaType;
    case 429: return ErrorCode::TooManyRequests;
    case 501: return ErrorCode::Unsupported;
    case 502:
    case 503: return ErrorCode::Unavailable;
    case 504: return ErrorCode::Timeout;
    default: break;
    }
    if (status >= 500) return ErrorCode::Internal;
    return ErrorCode::InvalidArgument;
}

// Reads at most `limit` bytes; PayloadTooLarge when there is more.
Result<std::string> readBounded(std::istream& in, size_t limit) {
    std::string body;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        body.append(buffer, static_cast<size_t>(in.gcount()));
        if (body.size() > limit)
            return makeError(ErrorCode::PayloadTooLarge,
                             "the server's answer is larger than " + std::to_string(limit >> 20) + " MiB; refused");
    }
    return body;
}

Error transportError(const std::string& target, const Poco::Exception& e) {
    if (dynamic_cast<const Poco::TimeoutException*>(&e))
        return makeError(ErrorCode::Timeout, "no answer from " + target + " in time");
    if (dynamic_cast<const Poco::Net::SSLException*>(&e))
        return makeError(ErrorCode::Unavailable, "TLS with " + target + " failed: " + e.displayText());
    if (dynamic_cast<const Poco::Net::ConnectionRefusedException*>(&e))
        return makeError(ErrorCode::Unavailable, "cannot connect to " + target + ": connection refused (is paddockd running?)");
    return makeError(ErrorCode::Unavailable, "cannot talk to " + target + ": " + e.displayText());
}

}  // namespace

std::string urlEncode(const std::string& text) {
    std::string out;
    Poco::URI::encode(text, "!#$&'()*+,/:;=?@[]%", out);
    return out;
}

Error errorFromReply(const ApiReply& reply) {
    const ErrorCode code = codeForStatus(reply.status);
    std::string message;
    auto doc = server::parseJsonValue(reply.body);
    if (doc && doc->IsObject() && doc->HasMember("error") && (*doc)["error"].IsObject()) {
        const auto& error = (*doc)["error"];
        if (error.HasMember("message") && error["message"].IsString()) message = error["message"].GetString();
        if (error.HasMember("code") && error["code"].IsString())
            message += std::string(message.empty() ? "" : " ") + "(" + error["code"].GetString() + ")";
    }
    // The message goes to a terminal: no escape sequences from the server, and not a novel.
    if (message.size() > kMaxErrorMessage) message = message.substr(0, kMaxErrorMessage) + "...";
    message = printable(message);
    if (message.empty()) {
        std::string start = printable(reply.body.substr(0, 200));
        while (!start.empty() && std::isspace(static_cast<unsigned char>(start.back()))) start.pop_back();
        message = start.empty() ? "no details" : "unexpected answer: " + start;
    }
    return makeError(code, message + " [HTTP " + std::to_string(reply.status) + "]");
}

ApiClient::ApiClient(ClientSettings settings, std::string scheme, std::string host, uint16_t port, std::string basePath)
    : settings_(std::move(settings)),
      scheme_(std::move(scheme)),
      host_(std::move(host)),
      port_(port),
      basePath_(std::move(basePath)) {
    if (scheme_ == "https") {
        Poco::Net::Context::Params params;
        params.verificationMode =
            settings_.insecure ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT;
        params.caLocation = settings_.caFile;
        params.loadDefaultCAs = settings_.caFile.empty();
        tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    }
}

Result<ApiClient> ApiClient::create(ClientSettings settings) {
    const std::string url = settings.url;
    try {
        Poco::URI uri(url);
        const std::string scheme = uri.getScheme();
        if (scheme != "http" && scheme != "https")
            return makeError(ErrorCode::InvalidArgument, "bad URL '" + url + "': it must start with http:// or https://");
        if (uri.getHost().empty()) return makeError(ErrorCode::InvalidArgument, "bad URL '" + url + "': no host");
        if (!uri.getRawQuery().empty() || !uri.getFragment().empty() || !uri.getUserInfo().empty())
            return makeError(ErrorCode::InvalidArgument,
                             "bad URL '" + url + "': only scheme, host, port and a base path are allowed");
        std::string base = uri.getPath();
        while (!base.empty() && base.back() == '/') base.pop_back();
        if (!settings.caFile.empty() && scheme != "https")
            return makeError(ErrorCode::InvalidArgument, "--ca-file needs an https:// URL");
        try {
            return ApiClient(std::move(settings), scheme, uri.getHost(), uri.getPort(), base);
        } catch (const Poco::Exception& e) {
            return makeError(ErrorCode::InvalidArgument, "cannot set up TLS: " + e.displayText());
        }
    } catch (const Poco::Exception& e) {
        return makeError(ErrorCode::InvalidArgument, "bad URL '" + url + "': " + e.displayText());
    }
}

namespace {

std::unique_ptr<Poco::Net::HTTPClientSession> openSession(const std::string& scheme, const std::string& host,
                                                          uint16_t port, const Poco::Net::Context::Ptr& tls,
                                                          int timeoutS) {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (scheme == "https")
        session = std::make_unique<Poco::Net::HTTPSClientSession>(host, port, tls);
    else
        session = std::make_unique<Poco::Net::HTTPClientSession>(host, port);
    session->setTimeout(Poco::Timespan(timeoutS, 0));
    session->setKeepAlive(false);
    return session;
}

}  // namespace

Poco::Net::HTTPRequest ApiClient::newRequest(const std::string& method, const std::string& path) const {
    Poco::Net::HTTPRequest request(method, basePath_ + path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("User-Agent", "paddock-cli");
    if (!settings_.token.empty()) request.set("Authorization", "Bearer " + settings_.token);
    return request;
}

Result<ApiReply> ApiClient::request(const std::string& method, const std::string& path,
                                    const std::optional<std::string>& body,
                                    const std::vector<std::pair<std::string, std::string>>& headers) const {
    const std::string target = settings_.url;
    try {
        auto session = openSession(scheme_, host_, port_, tls_, settings_.timeoutS);
        auto request = newRequest(method, path);
        request.set("Accept", "application/json");
        for (const auto& [name, value] : headers) request.set(name, value);
        if (body) {
            request.setContentType("application/json");
            request.setContentLength(static_cast<std::streamsize>(body->size()));
        } else if (method == "POST" || method == "PUT") {
            request.setContentLength(0);
        }
        auto& out = session->sendRequest(request);
        if (body) out << *body;
        Poco::Net::HTTPResponse response;
        auto& in = session->receiveResponse(response);
        auto text = readBounded(in, kMaxResponseBytes);
        if (!text) return std::move(text).error();
        return ApiReply{static_cast<int>(response.getStatus()), std::move(*text), response.getContentType()};
    } catch (const Poco::Exception& e) {
        return transportError(target, e);
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Unavailable, "cannot talk to " + target + ": " + e.what());
    }
}

Status ApiClient::stream(const std::string& path, const std::function<Status(std::istream&)>& consume) const {
    const std::string target = settings_.url;
    try {
        auto session = openSession(scheme_, host_, port_, tls_, settings_.timeoutS);
        auto request = newRequest("GET", path);
        session->sendRequest(request);
        Poco::Net::HTTPResponse response;
        auto& in = session->receiveResponse(response);
        const int status = static_cast<int>(response.getStatus());
        if (status < 200 || status >= 300) {
            auto text = readBounded(in, 1 << 20);
            return errorFromReply(ApiReply{status, text ? *text : std::string(), response.getContentType()});
        }
        return consume(in);
    } catch (const Poco::Exception& e) {
        return transportError(target, e);
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Unavailable, "cannot talk to " + target + ": " + e.what());
    }
}

Result<std::unique_ptr<Poco::Net::WebSocket>> ApiClient::openWebSocket(const std::string& path) const {
    const std::string target = settings_.url;
    try {
        auto session = openSession(scheme_, host_, port_, tls_, settings_.timeoutS);
        auto request = newRequest("GET", path);
        Poco::Net::HTTPResponse response;
        try {
            auto ws = std::make_unique<Poco::Net::WebSocket>(*session, request, response);
            ws->setMaxPayloadSize(16 << 20);
            return ws;
        } catch (const Poco::Net::WebSocketException&) {
            // Poco has read the refusal's head but keeps its body from us: the status and its
            // reason say what happened.
            const int status = static_cast<int>(response.getStatus());
            if (status == 101 || status == 0)
                return makeError(ErrorCode::Unavailable, "the server at " + target + " refused the WebSocket upgrade");
            const std::string body = "{\"error\":{\"message\":\"the terminal was refused: " + response.getReason() + "\"}}";
            return errorFromReply(ApiReply{status, body, response.getContentType()});
        }
    } catch (const Poco::Exception& e) {
        return transportError(target, e);
    }
}

}  // namespace paddock::cli
