#include "paddock/server/http_metrics.hpp"

#include <prometheus/text_serializer.h>

namespace paddock::server {

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("paddock_http_requests_total")
                    .Help("HTTP requests answered, by route pattern, method and status")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("paddock_http_request_duration_seconds")
                    .Help("Time from request start to response sent, by route pattern and method")
                    .Register(registry)),
      compatRequests_(prometheus::BuildCounter()
                          .Name("vm_manager_requests_total")
                          .Help("Total HTTP requests to vm-manager (compatibility name of paddock_http_requests_total)")
                          .Register(registry)),
      compatLatency_(prometheus::BuildHistogram()
                         .Name("vm_manager_request_latency_seconds")
                         .Help("Latency of HTTP requests to vm-manager (compatibility name)")
                         .Register(registry)) {}

void HttpMetrics::observe(const std::string& route, const std::string& method, int status, double seconds) {
    // VM operations take seconds (graceful stop waits up to a minute), hence the long tail.
    static const prometheus::Histogram::BucketBoundaries kBuckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                  0.5,   1,     2.5,  5,     10,   30,  60};
    requests_.Add({{"route", route}, {"method", method}, {"status", std::to_string(status)}}).Increment();
    duration_.Add({{"route", route}, {"method", method}}, kBuckets).Observe(seconds);
    // The old tool's buckets were prometheus_client's defaults.
    static const prometheus::Histogram::BucketBoundaries kCompatBuckets{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                                        0.5,   0.75, 1,     2.5,  5,     7.5, 10};
    compatRequests_.Add({{"method", method}, {"endpoint", route}}).Increment();
    compatLatency_.Add({{"endpoint", route}}, kCompatBuckets).Observe(seconds);
}

std::string serializeMetrics(prometheus::Registry& registry) {
    return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace paddock::server
