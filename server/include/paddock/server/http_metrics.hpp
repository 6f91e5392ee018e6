// HTTP metric families, registered in core's shared registry:
//   paddock_http_requests_total{route,method,status}
//   paddock_http_request_duration_seconds{route,method}
// and the earlier VM manager's two (compat_metrics.hpp has the rest of its set):
//   vm_manager_requests_total{method,endpoint}
//   vm_manager_request_latency_seconds{endpoint}
// `route` and `endpoint` are the matched pattern, "unmatched" when none matched (the old tool
// used the raw path, which lets any client grow the series without bound); the caller passes
// "other" for non-standard methods, so every label has bounded cardinality.
// Thread-safe (prometheus-cpp families lock internally).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace paddock::server {

class HttpMetrics {
public:
    // `registry` must outlive this object.
    explicit HttpMetrics(prometheus::Registry& registry);
    void observe(const std::string& route, const std::string& method, int status, double seconds);

private:
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Histogram>& duration_;
    prometheus::Family<prometheus::Counter>& compatRequests_;
    prometheus::Family<prometheus::Histogram>& compatLatency_;
};

// The registry in the Prometheus text exposition format (version 0.0.4).
std::string serializeMetrics(prometheus::Registry& registry);
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace paddock::server
