#include "promql_names.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace paddock::test {

namespace {

bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool identChar(char c) { return identStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Keywords are case-insensitive in PromQL; so are the number words.
bool isKeyword(const std::string& w) {
    static const std::set<std::string> kWords = {"and",        "or",     "unless", "bool",    "by",
                                                 "without",    "on",     "ignoring", "group_left",
                                                 "group_right", "offset", "atan2",  "inf",    "nan"};
    return kWords.count(w) != 0;
}

// Aggregation operators are keywords too: `sum by (le) (x)` puts the grouping between the
// name and its parenthesis.
bool isAggregation(const std::string& w) {
    static const std::set<std::string> kAggregations = {"sum",    "min",    "max",      "avg",          "group",
                                                        "stddev", "stdvar", "count",    "count_values", "bottomk",
                                                        "topk",   "quantile", "limitk", "limit_ratio"};
    return kAggregations.count(w) != 0;
}

bool takesLabelList(const std::string& w) {
    return w == "by" || w == "without" || w == "on" || w == "ignoring" || w == "group_left" || w == "group_right";
}

class Reader {
public:
    explicit Reader(std::string_view text) : s_(text) {}

    PromqlNames run() {
        while (i_ < s_.size() && out_.error.empty()) step();
        if (out_.error.empty() && !closers_.empty())
            fail(std::string("unterminated '") + (closers_.back() == ')' ? "(" : "?") + "'");
        return std::move(out_);
    }

private:
    void fail(const std::string& why) {
        if (out_.error.empty()) out_.error = why + " at offset " + std::to_string(i_);
    }
    char peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
    void skipSpace() {
        while (i_ < s_.size()) {
            if (std::isspace(static_cast<unsigned char>(s_[i_]))) {
                ++i_;
            } else if (s_[i_] == '#') {
                while (i_ < s_.size() && s_[i_] != '\n') ++i_;
            } else {
                break;
            }
        }
    }
    // A string at i_ (", ' or `); returns its raw content.
    std::string readString() {
        const char quote = s_[i_++];
        std::string content;
        while (i_ < s_.size() && s_[i_] != quote) {
            if (s_[i_] == '\\' && quote != '`' && i_ + 1 < s_.size()) content += s_[i_++];
            content += s_[i_++];
        }
        if (i_ >= s_.size()) {
            fail("unterminated string");
            return content;
        }
        ++i_;
        return content;
    }
    std::string readIdent() {
        const size_t start = i_;
        while (i_ < s_.size() && identChar(s_[i_])) ++i_;
        return std::string(s_.substr(start, i_ - start));
    }
    // Numbers (1, 0.5, .5, 1e-3, 0x1f) and durations (5m, 1h30m): letters and digits run on.
    void skipNumber() {
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                                  ((s_[i_] == '+' || s_[i_] == '-') && i_ > 0 &&
                                   (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E') && !isHex())))
            ++i_;
    }
    bool isHex() const {
        size_t j = i_;
        while (j > 0 && std::isalnum(static_cast<unsigned char>(s_[j - 1]))) --j;
        return j + 1 < s_.size() && s_[j] == '0' && (s_[j + 1] == 'x' || s_[j + 1] == 'X');
    }
    // $name, ${name...}, and the old [[name]] (handled with brackets).
    void skipVariable() {
        ++i_;
        if (peek() == '{') {
            while (i_ < s_.size() && s_[i_] != '}') ++i_;
            if (i_ >= s_.size()) return fail("unterminated '${'");
            ++i_;
        } else {
            while (i_ < s_.size() && identChar(s_[i_])) ++i_;
        }
    }
    // { matchers }: label names, operators and strings; `__name__="x"` names a metric.
    void readMatchers() {
        ++i_;
        while (true) {
            skipSpace();
            if (i_ >= s_.size()) return fail("unterminated '{'");
            const char c = s_[i_];
            if (c == '}') {
                ++i_;
                return;
            }
            if (c == '"' || c == '\'' || c == '`') {
                readString();
                continue;
            }
            if (c == '$') {
                skipVariable();
                continue;
            }
            if (identStart(c)) {
                const std::string label = readIdent();
                skipSpace();
                std::string op;
                while (i_ < s_.size() && (s_[i_] == '=' || s_[i_] == '!' || s_[i_] == '~')) op += s_[i_++];
                skipSpace();
                if (label == "__name__") {
                    if (op != "=") return fail("__name__ matched with '" + op + "': its metrics cannot be listed");
                    if (peek() != '"' && peek() != '\'' && peek() != '`') return fail("__name__ without a string");
                    const std::string name = readString();
                    if (out_.error.empty()) out_.metrics.insert(name);
                }
                continue;
            }
            if (c == ',' || c == '=' || c == '!' || c == '~') {
                ++i_;
                continue;
            }
            return fail(std::string("unexpected '") + c + "' in label matchers");
        }
    }
    // ( label, label ) after by/without/on/ignoring/group_left/group_right.
    void skipLabelList() {
        skipSpace();
        if (peek() != '(') return;  // group_left without labels
        ++i_;
        while (i_ < s_.size() && s_[i_] != ')') {
            if (s_[i_] == '(' || s_[i_] == '{' || s_[i_] == '[') return fail("unexpected bracket in a label list");
            ++i_;
        }
        if (i_ >= s_.size()) return fail("unterminated label list");
        ++i_;
    }
    // [5m], [5m:1m], [$__rate_interval], [[var]]: durations, steps and variables only.
    void skipBrackets() {
        const bool legacyVariable = peek(1) == '[';
        i_ += legacyVariable ? 2 : 1;
        while (i_ < s_.size() && s_[i_] != ']') {
            if (s_[i_] == '$') {
                skipVariable();
                continue;
            }
            if (std::string_view("[](){}\"'`").find(s_[i_]) != std::string_view::npos)
                return fail(std::string("unexpected '") + s_[i_] + "' in a range");
            ++i_;
        }
        if (i_ >= s_.size()) return fail("unterminated '['");
        ++i_;
        if (legacyVariable) {
            if (peek() != ']') return fail("unterminated '[['");
            ++i_;
        }
    }
    void step() {
        skipSpace();
        if (i_ >= s_.size()) return;
        const char c = s_[i_];
        if (c == '"' || c == '\'' || c == '`') {
            readString();
        } else if (c == '{') {
            readMatchers();
        } else if (c == '[') {
            skipBrackets();
        } else if (c == '(') {
            closers_.push_back(')');
            ++i_;
        } else if (c == ')') {
            if (closers_.empty()) return fail("unbalanced ')'");
            closers_.pop_back();
            ++i_;
        } else if (c == '}' || c == ']') {
            fail(std::string("unbalanced '") + c + "'");
        } else if (c == '$') {
            skipVariable();
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
            skipNumber();
        } else if (identStart(c)) {
            const std::string word = readIdent();
            const std::string key = lower(word);
            const size_t after = i_;
            skipSpace();
            const bool call = peek() == '(';
            i_ = after;
            if (isKeyword(key)) {
                if (takesLabelList(key)) skipLabelList();
                if (key == "offset") {
                    skipSpace();
                    if (peek() == '-') ++i_;
                    skipSpace();
                    if (peek() == '$')
                        skipVariable();
                    else
                        skipNumber();
                }
            } else if (!call && !isAggregation(key)) {
                out_.metrics.insert(word);
            }
            // An identifier before '(' is a function: not a metric.
        } else {
            ++i_;  // operators, commas, '@' (its argument is a number or start()/end())
        }
    }

    std::string_view s_;
    size_t i_ = 0;
    std::vector<char> closers_;
    PromqlNames out_;
};

}  // namespace

PromqlNames promqlMetricNames(std::string_view expr) { return Reader(expr).run(); }

PromqlNames grafanaVariableMetricNames(std::string_view query) {
    size_t start = 0;
    while (start < query.size() && std::isspace(static_cast<unsigned char>(query[start]))) ++start;
    query.remove_prefix(start);
    const auto takes = [&](std::string_view prefix) { return query.substr(0, prefix.size()) == prefix; };
    if (takes("metrics(")) return {};
    if (takes("query_result(")) {
        if (query.back() != ')') return {{}, "query_result( without its ')'"};
        return promqlMetricNames(query.substr(13, query.size() - 14));
    }
    if (!takes("label_values(")) return promqlMetricNames(query);
    if (query.back() != ')') return {{}, "label_values( without its ')'"};
    const std::string_view args = query.substr(13, query.size() - 14);
    // The last top-level comma ends the selector; without one the argument is a label only.
    int depth = 0;
    size_t comma = std::string_view::npos;
    char quote = 0;
    for (size_t j = 0; j < args.size(); ++j) {
        const char c = args[j];
        if (quote != 0) {
            if (c == '\\' && quote != '`') ++j;
            else if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'' || c == '`') {
            quote = c;
        } else if (c == '(' || c == '{' || c == '[') {
            ++depth;
        } else if (c == ')' || c == '}' || c == ']') {
            --depth;
        } else if (c == ',' && depth == 0) {
            comma = j;
        }
    }
    if (comma == std::string_view::npos) return {};
    return promqlMetricNames(args.substr(0, comma));
}

}  // namespace paddock::test
