#include "paddock/server/listing_cache.hpp"

#include "paddock/core/site.hpp"

#include <cstdio>

namespace paddock::server {

namespace {

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string entityTag(std::string_view body) {
    uint64_t hash = 14695981039346656037ull;
    for (const unsigned char c : body) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    char out[24];
    std::snprintf(out, sizeof out, "\"%016llx\"", static_cast<unsigned long long>(hash));
    return out;
}

bool noneMatchHits(std::string_view ifNoneMatch, std::string_view etag) {
    const std::string_view value = trimmed(ifNoneMatch);
    if (value == "*") return true;
    size_t start = 0;
    while (start <= value.size()) {
        const size_t comma = value.find(',', start);
        std::string_view tag =
            trimmed(value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
        if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // weak comparison
        if (tag == etag) return true;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return false;
}

namespace {

// 304 with the tag when the request's If-None-Match matches it.
std::optional<Response> notModified(const Request& request, const std::string& etag) {
    const auto ifNoneMatch = request.header("if-none-match");
    if (!ifNoneMatch || !noneMatchHits(*ifNoneMatch, etag)) return std::nullopt;
    Response response = jsonResponse(304, "");
    response.headers.emplace_back("ETag", etag);
    return response;
}

}  // namespace

Response taggedJson(const Request& request, std::string body, const std::string& etag) {
    if (auto unchanged = notModified(request, etag)) return std::move(*unchanged);
    Response response = jsonResponse(200, std::move(body));
    response.headers.emplace_back("ETag", etag);
    return response;
}

Response taggedJson(const Request& request, std::shared_ptr<const std::string> body, const std::string& etag) {
    if (auto unchanged = notModified(request, etag)) return std::move(*unchanged);
    Response response = jsonResponse(200, "");
    response.sharedBody = std::move(body);
    response.headers.emplace_back("ETag", etag);
    return response;
}

Response taggedJson(const Request& request, std::string body) {
    const std::string etag = entityTag(body);
    return taggedJson(request, std::move(body), etag);
}

Result<Response> ListingCache::serve(const Request& request, const std::vector<Site*>& sites, const Build& build) {
    Key key;
    key.reserve(sites.size());
    bool keepable = true;
    for (Site* site : sites) {
        const auto generation = site->viewGeneration();
        if (!generation) {
            keepable = false;
            break;
        }
        key.emplace_back(site, *generation);
    }
    // A site that is down answers as it did before the copy (the build returns its error).
    for (Site* site : sites) keepable = keepable && site->connection().ok();
    if (!keepable) {
        auto body = build();
        if (!body) return std::move(body).error();
        return taggedJson(request, std::move(body).value());
    }
    {
        // One build per key: requests that miss while it runs wait for it rather than build the
        // same body again (at 10,000 domains each build is megabytes, and every waiting request
        // building its own starved the machine). A build for another key does not hold them up.
        std::unique_lock lock(mutex_);
        for (;;) {
            if (copy_ && copy_->key == key) return taggedJson(request, copy_->body, copy_->etag);
            if (!building_ || buildingKey_ != key) break;
            built_.wait(lock);
        }
        building_ = true;
        buildingKey_ = key;
    }
    // Whatever happens to the build, the requests waiting for it are let go (they build anew).
    struct Release {
        ListingCache& cache;
        ~Release() {
            {
                std::lock_guard lock(cache.mutex_);
                cache.building_ = false;
            }
            cache.built_.notify_all();
        }
    } release{*this};
    auto body = build();
    if (!body) return std::move(body).error();
    auto copy = std::make_shared<Copy>();
    copy->key = std::move(key);
    copy->etag = entityTag(body.value());
    copy->body = std::make_shared<const std::string>(std::move(body).value());
    {
        std::lock_guard lock(mutex_);
        copy_ = copy;
    }
    return taggedJson(request, copy->body, copy->etag);
}

}  // namespace paddock::server
