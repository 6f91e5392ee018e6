// The PromQL name extractor the dashboard test relies on: what it must find, and what it must
// not take for a metric (functions, keywords, labels, strings, numbers, durations, variables).
#include "promql_names.hpp"

#include <catch2/catch.hpp>

using paddock::test::grafanaVariableMetricNames;
using paddock::test::promqlMetricNames;
using Names = std::set<std::string>;

namespace {

Names names(const std::string& expr) {
    const auto r = promqlMetricNames(expr);
    INFO(expr << " -> " << r.error);
    REQUIRE(r.error.empty());
    return r.metrics;
}

std::string errorOf(const std::string& expr) { return promqlMetricNames(expr).error; }

}  // namespace

TEST_CASE("promql names: plain selectors, functions and aggregations", "[promql]") {
    CHECK(names("up") == Names{"up"});
    CHECK(names("up{job=\"paddock\"} == 0") == Names{"up"});
    CHECK(names("rate(paddock_http_requests_total[5m])") == Names{"paddock_http_requests_total"});
    CHECK(names("sum(rate(a_total[1m])) / sum(rate(b_total[1m]))") == Names{"a_total", "b_total"});
    CHECK(names("histogram_quantile(0.99, sum by (le, pool) (rate(x_bucket{pool=~\"$pool\"}[$__rate_interval])))") ==
          Names{"x_bucket"});
    CHECK(names("sum without (instance) (x) by (site)").size() == 1);
    CHECK(names("topk(5, sum by (vm) (x))") == Names{"x"});
    CHECK(names("count_values(\"version\", build_info)") == Names{"build_info"});
    CHECK(names("sum(x) or vector(0)") == Names{"x"});
    CHECK(names("absent(x{a=\"b\"})") == Names{"x"});
    // A function name with space before its parenthesis is still a function.
    CHECK(names("sum (rate (x[5m]))") == Names{"x"});
    // Names may hold colons (recording rules).
    CHECK(names("job:paddock_requests:rate5m > 1") == Names{"job:paddock_requests:rate5m"});
}

TEST_CASE("promql names: keywords and their label lists are not metrics", "[promql]") {
    CHECK(names("a == 0 and on (instance, site, pool) b > 0") == Names{"a", "b"});
    CHECK(names("a * on(site) group_left(pool, vm) b") == Names{"a", "b"});
    CHECK(names("a / ignoring(code) group_right b") == Names{"a", "b"});
    CHECK(names("a unless b or c") == Names{"a", "b", "c"});
    CHECK(names("a AND b OR c UNLESS d") == Names{"a", "b", "c", "d"});  // keywords ignore case
    CHECK(names("a > bool 3") == Names{"a"});
    CHECK(names("sum by (le) (x) BY (le)") == Names{"x"});
    CHECK(names("a atan2 b") == Names{"a", "b"});
}

TEST_CASE("promql names: strings, regexes with braces, label names are skipped", "[promql]") {
    CHECK(names("x{route=~\"/api/v1/vms/{name}\", method!=\"GET\"}") == Names{"x"});
    CHECK(names("x{a=~'fo{2}o', b=`raw\\` }") == Names{"x"});
    CHECK(names("x{a=\"quote \\\" and } brace\"}") == Names{"x"});
    CHECK(names("label_replace(rate(x[5m]), \"code\", \"${1}xx\", \"status\", \"([0-9])..\")") == Names{"x"});
    CHECK(names("label_join(x, \"dst\", \",\", \"a\", \"b\")") == Names{"x"});
    CHECK(names("{__name__=\"only_by_name\", job=\"j\"}") == Names{"only_by_name"});
    CHECK(names("x{site=~\"$site\", pool=~\"${pool:regex}\"}") == Names{"x"});
    CHECK(names("x # a comment naming not_a_metric\n + y") == Names{"x", "y"});
}

TEST_CASE("promql names: numbers, durations, offsets, @ and subqueries", "[promql]") {
    CHECK(names("x > 1e-3") == Names{"x"});
    CHECK(names("x * 0x1F + .5 - 2E+2") == Names{"x"});
    CHECK(names("x > Inf or y < -inf or z != NaN") == Names{"x", "y", "z"});
    CHECK(names("rate(x[1h30m] offset 1d)") == Names{"x"});
    CHECK(names("x offset -5m") == Names{"x"});
    CHECK(names("x offset $__interval") == Names{"x"});
    CHECK(names("x @ 1609746000") == Names{"x"});
    CHECK(names("x @ start() - y @ end()") == Names{"x", "y"});
    CHECK(names("max_over_time(rate(x[5m])[1h:1m])") == Names{"x"});
    CHECK(names("max_over_time(deriv(rate(x[1m])[5m:])[1h:$__interval] offset 1w)") == Names{"x"});
    CHECK(names("rate(x[[interval]])") == Names{"x"});
    CHECK(names("rate(x[${__rate_interval}])") == Names{"x"});
}

TEST_CASE("promql names: malformed expressions are refused with a reason", "[promql]") {
    CHECK_THAT(errorOf("x{a=\"b}"), Catch::Contains("unterminated string"));
    CHECK_THAT(errorOf("x{a=\"b\""), Catch::Contains("unterminated '{'"));
    CHECK_THAT(errorOf("rate(x[5m]"), Catch::Contains("unterminated '('"));
    CHECK_THAT(errorOf("rate(x[5m)"), Catch::Contains("range"));
    CHECK_THAT(errorOf("x)"), Catch::Contains("unbalanced ')'"));
    CHECK_THAT(errorOf("x}"), Catch::Contains("unbalanced '}'"));
    CHECK_THAT(errorOf("sum by (le x"), Catch::Contains("unterminated label list"));
    CHECK_THAT(errorOf("{__name__=~\"paddock_.*\"}"), Catch::Contains("cannot be listed"));
    CHECK_THAT(errorOf("x{a=\"b\" | c}"), Catch::Contains("unexpected '|'"));
    // Huge input: read to the end, every name found.
    std::string big;
    for (int i = 0; i < 20000; ++i) {
        big += 'm';
        big += std::to_string(i % 100);
        big += "{a=\"}\"} + ";
    }
    big += "last";
    const auto r = promqlMetricNames(big);
    CHECK(r.error.empty());
    CHECK(r.metrics.size() == 101);
    CHECK(promqlMetricNames("").metrics.empty());
    CHECK(promqlMetricNames(std::string(10000, '(')).error.find("unterminated") != std::string::npos);
}

TEST_CASE("grafana variable queries: the selector of label_values, nothing for the label-only forms",
          "[promql]") {
    CHECK(grafanaVariableMetricNames("label_values(paddock_vms, site)").metrics == Names{"paddock_vms"});
    CHECK(grafanaVariableMetricNames("label_values(x{site=~\"$site\", a=\"b,c\"}, pool)").metrics == Names{"x"});
    CHECK(grafanaVariableMetricNames("label_values(site)").metrics.empty());
    CHECK(grafanaVariableMetricNames("metrics(paddock_.*)").metrics.empty());
    CHECK(grafanaVariableMetricNames("query_result(topk(3, x))").metrics == Names{"x"});
    CHECK_FALSE(grafanaVariableMetricNames("label_values(x, site").error.empty());
}
