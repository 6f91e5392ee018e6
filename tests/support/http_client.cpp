#include "http_client.hpp"

#include "test_tls.hpp"

#include <catch2/catch.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>

#include <memory>
#include <stdexcept>

namespace paddock::test {

std::string jsonString(const rapidjson::Value& value) {
    REQUIRE(value.IsString());
    return {value.GetString(), value.GetStringLength()};
}

rapidjson::Document HttpReply::json() const {
    rapidjson::Document doc;
    doc.Parse(body.c_str(), body.size());
    if (doc.HasParseError()) throw std::runtime_error("not JSON (HTTP " + std::to_string(status) + "): " + body);
    return doc;
}

std::string HttpReply::errorCode() const {
    rapidjson::Document doc;
    doc.Parse(body.c_str(), body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("error") || !doc["error"].IsObject()) return {};
    const auto& e = doc["error"];
    if (!e.HasMember("code") || !e["code"].IsString() || !e.HasMember("message") || !e["message"].IsString()) return {};
    return e["code"].GetString();
}

std::optional<std::string> HttpReply::detail() const {
    rapidjson::Document doc;
    doc.Parse(body.c_str(), body.size());
    // FastAPI's error body has "detail" and nothing else.
    if (doc.HasParseError() || !doc.IsObject() || doc.MemberCount() != 1 || !doc.HasMember("detail") ||
        !doc["detail"].IsString())
        return std::nullopt;
    return std::string(doc["detail"].GetString(), doc["detail"].GetStringLength());
}

std::string HttpReply::header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

HttpReply httpRequest(uint16_t port, const std::string& method, const std::string& path, const HttpOptions& options) {
    std::unique_ptr<Poco::Net::HTTPClientSession> https;
    if (!options.ca_file.empty())
        https = std::make_unique<Poco::Net::HTTPSClientSession>("127.0.0.1", port, clientTlsContext(options.ca_file));
    Poco::Net::HTTPClientSession plain("127.0.0.1", port);
    Poco::Net::HTTPClientSession& session = https ? *https : plain;
    session.setTimeout(Poco::Timespan(options.timeout_s, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!options.token.empty()) request.set("Authorization", "Bearer " + options.token);
    for (const auto& [name, value] : options.headers) request.set(name, value);
    const std::string body = options.body.value_or("");
    if (options.body) request.setContentType(options.content_type);
    if (options.chunked)
        request.setChunkedTransferEncoding(true);
    else
        request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpReply reply;
    reply.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, reply.body);
    reply.content_type = response.getContentType();
    for (const auto& [name, value] : response) reply.headers[name] = value;
    return reply;
}

}  // namespace paddock::test
