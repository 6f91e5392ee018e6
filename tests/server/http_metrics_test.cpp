#include "paddock/server/http_metrics.hpp"

#include <catch2/catch.hpp>

using namespace paddock::server;

TEST_CASE("HTTP metrics are labelled by route pattern, method and status", "[http_metrics]") {
    prometheus::Registry registry;
    HttpMetrics metrics(registry);
    metrics.observe("/api/v1/vms/{name}", "GET", 200, 0.002);
    metrics.observe("/api/v1/vms/{name}", "GET", 200, 0.004);
    metrics.observe("/api/v1/vms/{name}", "GET", 404, 0.001);
    const std::string text = serializeMetrics(registry);
    CHECK_THAT(text, Catch::Contains("# TYPE paddock_http_requests_total counter"));
    CHECK_THAT(text, Catch::Contains(
                         R"(paddock_http_requests_total{method="GET",route="/api/v1/vms/{name}",status="200"} 2)"));
    CHECK_THAT(text, Catch::Contains(
                         R"(paddock_http_requests_total{method="GET",route="/api/v1/vms/{name}",status="404"} 1)"));
    CHECK_THAT(text, Catch::Contains("# TYPE paddock_http_request_duration_seconds histogram"));
    CHECK_THAT(text, Catch::Contains(
                         R"(paddock_http_request_duration_seconds_count{method="GET",route="/api/v1/vms/{name}"} 3)"));
}
