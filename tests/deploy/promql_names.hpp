// The metric names a PromQL expression (as written in Grafana panels and Prometheus rules)
// selects, for checking them against a live /metrics. A tokenizer, not a parser: it skips
// string literals (all three quotings), numbers, durations, comments, label matchers in braces
// (only `{__name__="x"}` names a metric), range and subquery brackets, `offset`/`@` modifiers,
// keywords and binary operators, the label lists of by/without/on/ignoring/group_left/
// group_right, aggregation operators, function names (an identifier followed by `(`), and Grafana
// variables ($x, ${x}, [[x]]). Every other identifier is a metric name.
// `error` is set (and `metrics` holds what was read before) when the text is not well formed
// for this reading: an unterminated string, brace or bracket, an unbalanced closer, or a
// `__name__` matched by anything but `=`.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace paddock::test {

struct PromqlNames {
    std::set<std::string> metrics;
    std::string error;  // empty: the whole expression was read
};

PromqlNames promqlMetricNames(std::string_view expr);

// Grafana's templating query `label_values(<selector>, <label>)`, `label_values(<label>)`,
// `metrics(<regex>)` or `query_result(<expr>)`: the metric names it selects (none for the
// forms that name no metric).
PromqlNames grafanaVariableMetricNames(std::string_view query);

}  // namespace paddock::test
