// Listings served from one serialised copy per change of the sites' views, with a strong ETag
// and 304 for a matching If-None-Match. The copy is keyed by each site's viewGeneration()
// (domain view, metadata cache, readiness), read before the listing is built: a change during
// the build shows as a new key at the next request, never as a stale copy kept. Thread-safe.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {
class Site;
}

namespace paddock::server {

// A strong entity tag for `body`: a quoted 64-bit FNV-1a hash in hex.
std::string entityTag(std::string_view body);

// Whether an If-None-Match value matches `etag` (RFC 9110 13.1.2: "*" matches any current
// representation; a list of tags is compared weakly, so W/"x" matches "x"). Anything that does
// not parse matches nothing.
bool noneMatchHits(std::string_view ifNoneMatch, std::string_view etag);

// A 200 JSON answer of `body` with its ETag, or 304 without a body when the request's
// If-None-Match matches it.
Response taggedJson(const Request& request, std::string body, const std::string& etag);
Response taggedJson(const Request& request, std::string body);
// The same for a kept body, which the answer shares rather than copies.
Response taggedJson(const Request& request, std::shared_ptr<const std::string> body, const std::string& etag);

class ListingCache {
public:
    using Build = std::function<Result<std::string>()>;

    // The answer for `sites` (in this order): from the kept copy when every site's
    // viewGeneration() is what it was when the copy was built, else built by `build` (and kept
    // when every site had a generation). A site whose connection is down always goes to
    // `build`, so its error is answered as without the copy. Errors of `build` are returned as they are.
    // At most one build per key runs: other requests with that key wait for it (on their worker
    // thread), then answer from its copy, or build themselves when it failed.
    Result<Response> serve(const Request& request, const std::vector<Site*>& sites, const Build& build);

private:
    using Key = std::vector<std::pair<const Site*, uint64_t>>;
    struct Copy {
        Key key;
        std::shared_ptr<const std::string> body;
        std::string etag;
    };
    std::mutex mutex_;
    std::condition_variable built_;  // a build ended (kept or failed)
    std::shared_ptr<const Copy> copy_;
    bool building_ = false;  // a request is building the body for buildingKey_
    Key buildingKey_;
};

}  // namespace paddock::server
