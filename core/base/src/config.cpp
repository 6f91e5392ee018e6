#include "paddock/core/config.hpp"

#include "paddock/core/ip_network.hpp"
#include "paddock/core/json_writer.hpp"
#include "paddock/core/limits.hpp"
#include "paddock/core/names.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

extern char** environ;

namespace paddock {

namespace {

constexpr std::string_view kEnvPrefix = "PADDOCK_";

// PADDOCK_* variables read by scripts, tests and logging rather than by the config loader.
// Without this list they would be rejected as misspelt overrides.
constexpr std::array<std::string_view, 4> kNonConfigVariables = {
    "PADDOCK_ALLOW_SKIP",
    "PADDOCK_CONFIG",
    "PADDOCK_CRASH_POINT",
    "PADDOCK_LOG_LEVEL",
};

constexpr uint64_t kMinTokenLength = 16;

// The readers recurse through nested sections and lists; one file-local exception unwinds
// them to parseConfig, which turns it into the Result every caller sees.
struct ConfigError {
    std::string message;
};

[[noreturn]] void fail(std::string message) { throw ConfigError{std::move(message)}; }

// ---- key paths ---------------------------------------------------------------------------

// Keys, and list indices as decimal digits; kAnyIndex stands for "every item" when the
// schema is walked without data, so overrides of missing list items can be recognised.
using KeyPath = std::vector<std::string>;
constexpr std::string_view kAnyIndex = "#";

bool isIndex(const std::string& segment) {
    return !segment.empty() && (segment == kAnyIndex || std::isdigit(static_cast<unsigned char>(segment[0])));
}

KeyPath child(KeyPath path, std::string segment) {
    path.push_back(std::move(segment));
    return path;
}

std::string displayPath(const KeyPath& path) {
    std::string out;
    for (const auto& segment : path) {
        if (isIndex(segment)) {
            out += "[" + segment + "]";
        } else {
            if (!out.empty()) out += '.';
            out += segment;
        }
    }
    return out;
}

bool isNumber(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string envName(const KeyPath& path) {
    std::string out(kEnvPrefix);
    for (size_t i = 0; i < path.size(); ++i) {
        if (i != 0) out += '_';
        out += upper(path[i]);
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t pos; (pos = s.find(sep, start)) != std::string_view::npos; start = pos + 1)
        parts.emplace_back(s.substr(start, pos - start));
    parts.emplace_back(s.substr(start));
    return parts;
}

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

// ---- did you mean ------------------------------------------------------------------------

size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
        }
    }
    return row[b.size()];
}

// The closest candidate, if close enough to be a plausible typo.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates) {
    const size_t limit = std::max<size_t>(2, word.size() / 3);
    std::optional<std::string> best;
    size_t bestDistance = limit + 1;
    for (const auto& candidate : candidates) {
        const size_t d = editDistance(word, candidate);
        if (d < bestDistance) {
            bestDistance = d;
            best = candidate;
        }
    }
    return best;
}

std::string didYouMean(const std::optional<std::string>& suggestion) {
    return suggestion ? " (did you mean " + *suggestion + "?)" : "";
}

// ---- context shared by every section ----------------------------------------------------

std::string nodeKind(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Scalar: return "a scalar";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
        default: return "nothing";
    }
}

class Context {
public:
    Context(const Environment& env, std::string origin) : env_(env), origin_(std::move(origin)) {}

    std::string at(const YAML::Mark& mark) const {
        if (mark.is_null()) return origin_;
        return origin_ + ":" + std::to_string(mark.line + 1);
    }

    std::optional<std::string> takeOverride(const std::string& name) {
        const auto it = env_.find(name);
        if (it == env_.end()) return std::nullopt;
        used_.insert(name);
        return it->second;
    }

    void registerKey(KeyPath path) {
        for (auto& segment : path)
            if (isIndex(segment)) segment = kAnyIndex;
        patterns_.insert(std::move(path));
    }

    void registerList(const KeyPath& path, size_t size) { listSizes_[displayPath(path)] = size; }

    // Where a key's value came from ("at file:line" or "from environment variable X"), for
    // checks that run after reading.
    void remember(const KeyPath& path, std::string where) { locations_[displayPath(path)] = std::move(where); }

    std::string where(KeyPath path) const {
        for (; !path.empty(); path.pop_back()) {
            const auto it = locations_.find(displayPath(path));
            if (it != locations_.end()) return it->second;
        }
        return "in " + origin_;
    }

    // Every PADDOCK_* variable must have been consumed by some key.
    void rejectUnusedOverrides() const {
        for (const auto& [name, value] : env_) {
            if (name.rfind(kEnvPrefix, 0) != 0 || used_.count(name)) continue;
            if (std::find(kNonConfigVariables.begin(), kNonConfigVariables.end(), name) != kNonConfigVariables.end())
                continue;
            rejectMissingItem(name);
            fail("unknown environment variable " + name + ": it matches no configuration key" +
                 didYouMean(suggestVariable(name)));
        }
    }

private:
    // PADDOCK_SITES_3_URI with one site fits the schema but names an item that does not
    // exist; say so rather than calling it unknown.
    void rejectMissingItem(const std::string& name) const {
        const auto tokens = split(std::string_view(name).substr(kEnvPrefix.size()), '_');
        for (const auto& pattern : patterns_) {
            const auto path = instantiate(pattern, tokens);
            if (!path) continue;
            for (size_t i = 0; i < path->size(); ++i) {
                if (!isIndex((*path)[i])) continue;
                const KeyPath list(path->begin(), path->begin() + static_cast<std::ptrdiff_t>(i));
                const auto size = listSizes_.find(displayPath(list));
                const size_t count = size == listSizes_.end() ? 0 : size->second;
                if (std::stoull((*path)[i]) >= count)
                    fail("environment variable " + name + " overrides " + displayPath(*path) + ", but " +
                         displayPath(list) + " has " + std::to_string(count) + " item(s)");
            }
        }
    }

    // Compared with indices masked, so that items of empty lists can be suggested too; the
    // suggestion keeps the caller's indices.
    std::optional<std::string> suggestVariable(const std::string& name) const {
        auto tokens = split(std::string_view(name).substr(kEnvPrefix.size()), '_');
        std::vector<std::string> indices;
        for (auto& t : tokens) {
            if (isNumber(t)) indices.push_back(std::exchange(t, std::string(kAnyIndex)));
        }
        std::vector<std::string> candidates;
        for (const auto& pattern : patterns_) candidates.push_back(envName(pattern).substr(kEnvPrefix.size()));
        std::string masked;
        for (const auto& t : tokens) masked += (masked.empty() ? "" : "_") + t;
        const auto best = closest(masked, candidates);
        if (!best) return std::nullopt;
        std::string out(kEnvPrefix);
        size_t next = 0;
        for (const auto& t : split(*best, '_')) {
            const bool index = t == kAnyIndex;
            out += (out.size() == kEnvPrefix.size() ? "" : "_") + (!index                  ? t
                                                                   : next < indices.size() ? indices[next++]
                                                                                           : "<n>");
        }
        return out;
    }

    // The concrete path if `tokens` (the variable name split at '_') fits `pattern`.
    static std::optional<KeyPath> instantiate(const KeyPath& pattern, const std::vector<std::string>& tokens) {
        KeyPath path;
        size_t t = 0;
        for (const auto& segment : pattern) {
            if (segment == kAnyIndex) {
                if (t >= tokens.size() || !isNumber(tokens[t]) || tokens[t].size() > 9) return std::nullopt;
                path.push_back(tokens[t++]);
                continue;
            }
            for (const auto& word : split(upper(segment), '_')) {
                if (t >= tokens.size() || tokens[t++] != word) return std::nullopt;
            }
            path.push_back(segment);
        }
        if (t != tokens.size()) return std::nullopt;
        return path;
    }

    const Environment& env_;
    std::string origin_;
    std::set<std::string> used_;
    std::set<KeyPath> patterns_;
    std::map<std::string, size_t> listSizes_;
    std::map<std::string, std::string> locations_;
};

// ---- typed readers -------------------------------------------------------------------------

// nullopt when not all digits; nullopt too, but with `tooLarge` set, when beyond 64 bits.
std::optional<uint64_t> parseUint(const std::string& text, bool& tooLarge) {
    uint64_t value = 0;
    tooLarge = false;
    if (!isNumber(text)) return std::nullopt;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    tooLarge = ec == std::errc::result_out_of_range;
    if (ec != std::errc()) return std::nullopt;
    return value;
}

// "15", "0.5", "2.25": non-negative seconds with at most three decimals, as milliseconds.
std::optional<uint64_t> parseSecondsAsMs(const std::string& text) {
    const auto dot = text.find('.');
    const std::string whole = text.substr(0, dot);
    std::string fraction = dot == std::string::npos ? std::string() : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 9 || !isNumber(whole)) return std::nullopt;
    if (dot != std::string::npos && (fraction.empty() || fraction.size() > 3 || !isNumber(fraction)))
        return std::nullopt;
    while (fraction.size() < 3) fraction += '0';
    return std::stoull(whole) * 1000 + std::stoull(fraction);
}

std::optional<bool> parseBool(const std::string& text) {
    const std::string t = upper(text);
    if (t == "TRUE" || t == "YES" || t == "ON" || t == "1") return true;
    if (t == "FALSE" || t == "NO" || t == "OFF" || t == "0") return false;
    return std::nullopt;
}

// One YAML mapping (or an absent one) at a key path. Each reader registers its key as
// known, applies the PADDOCK_<PATH> override, converts and range-checks. A schema-only
// section has no data: it only registers keys, so that the set of valid variable names
// includes items of empty lists.
class Section {
public:
    Section(Context& ctx, const YAML::Node& node, KeyPath path, std::string where, bool schemaOnly)
        : ctx_(ctx), path_(std::move(path)), where_(std::move(where)), schemaOnly_(schemaOnly) {
        if (!schemaOnly_) index(node);
    }

    void string(const char* key, std::string& out, size_t minLength = 0) {
        const auto raw = scalar(key, "a string");
        if (raw) out = raw->text;
        if (!schemaOnly_ && out.size() < minLength) fail(problem(key, "must not be empty", raw));
    }

    void name(const char* key, std::string& out, std::string_view what) {
        const auto raw = scalar(key, "a string");
        if (raw) out = raw->text;
        if (schemaOnly_) return;
        const Status valid = validateName(out, what);
        if (!valid) fail(problem(key, valid.error().message, raw));
    }

    void oneOf(const char* key, std::string& out, std::initializer_list<std::string_view> allowed) {
        const auto raw = scalar(key, "a string");
        if (raw) out = raw->text;
        if (schemaOnly_ || std::find(allowed.begin(), allowed.end(), out) != allowed.end()) return;
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(problem(key, "'" + out + "' is not one of: " + list, raw));
    }

    // A word from the enum's table (enum_names.hpp).
    template <class E>
    void choice(const char* key, E& out) {
        const auto raw = scalar(key, "a string");
        if (!raw) return;
        const auto value = parseEnum<E>(raw->text);
        if (!value) fail(problem(key, "'" + raw->text + "' is not one of: " + enumChoices<E>(), raw));
        out = *value;
    }

    // `allowZero`: 0 is accepted outside [min, max] because it means "use the default".
    template <class T>
    void uint(const char* key, T& out, uint64_t min, uint64_t max = std::numeric_limits<T>::max(),
              bool allowZero = false) {
        const auto raw = scalar(key, "an unsigned integer");
        if (!raw) return;
        bool tooLarge = false;
        const auto parsed = parseUint(raw->text, tooLarge);
        if (tooLarge)
            fail(problem(key, raw->text + " is out of range " + std::to_string(min) + ".." + std::to_string(max), raw));
        if (!parsed) fail(problem(key, "'" + raw->text + "' is not an unsigned integer", raw));
        const uint64_t value = *parsed;
        if ((value < min || value > max) && !(allowZero && value == 0)) {
            fail(problem(key,
                         std::to_string(value) + " is out of range " + std::to_string(min) + ".." +
                             std::to_string(max) + (allowZero ? " (or 0 for the default)" : ""),
                         raw));
        }
        out = static_cast<T>(value);
    }

    // Seconds, decimals allowed ("0.5"), kept as whole milliseconds in [minMs, maxMs].
    void seconds(const char* key, uint32_t& outMs, uint32_t minMs, uint32_t maxMs) {
        const auto raw = scalar(key, "a number of seconds");
        if (!raw) return;
        const auto range = [&] {
            return std::to_string(minMs / 1000) + (minMs % 1000 ? "." + std::to_string(minMs % 1000 + 1000).substr(1) : "") +
                   ".." + std::to_string(maxMs / 1000) + " s";
        };
        const auto ms = parseSecondsAsMs(raw->text);
        if (!ms) fail(problem(key, "'" + raw->text + "' is not a number of seconds (e.g. 15 or 0.5)", raw));
        if (*ms < minMs || *ms > maxMs) fail(problem(key, raw->text + " is out of range " + range(), raw));
        outMs = static_cast<uint32_t>(*ms);
    }

    void boolean(const char* key, bool& out) {
        const auto raw = scalar(key, "a boolean");
        if (!raw) return;
        const auto value = parseBool(raw->text);
        if (!value) fail(problem(key, "'" + raw->text + "' is not a boolean (true or false)", raw));
        out = *value;
    }

    // From the environment: comma-separated, items trimmed, empty items dropped.
    void stringList(const char* key, std::vector<std::string>& out) {
        const KeyPath path = declare(key, true);
        if (schemaOnly_) return;
        if (auto text = ctx_.takeOverride(envName(path))) {
            ctx_.remember(path, fromEnv(path));
            out.clear();
            for (const auto& item : split(*text, ',')) {
                if (auto t = trim(item); !t.empty()) out.push_back(std::move(t));
            }
            return;
        }
        const auto entry = find(key);
        if (!entry) return;
        ctx_.remember(path, "at " + ctx_.at(entry->key.Mark()));
        if (!entry->value.IsSequence())
            fail(problem(key, "expected a list of strings, got " + nodeKind(entry->value), entry->key));
        out.clear();
        for (const auto& item : entry->value) {
            if (!item.IsScalar())
                fail(problem(key, "expected a list of strings, got an item that is " + nodeKind(item), item));
            out.push_back(item.Scalar());
        }
    }

    // A mapping of scalars to scalars (plugin settings), in the YAML's order. Not from the
    // environment.
    void stringMap(const char* key, std::vector<std::pair<std::string, std::string>>& out) {
        const auto entry = mappingFromYaml(key, "a mapping of strings");
        if (!entry) return;
        out.clear();
        for (const auto& item : entry->value) {
            if (!item.first.IsScalar() || !item.second.IsScalar())
                fail(problem(key, "expected a mapping of strings, got an entry that is " + nodeKind(item.second),
                             item.first));
            out.emplace_back(item.first.Scalar(), item.second.Scalar());
        }
    }

    // Labels (config.hpp Labels): a YAML mapping of strings, or from the environment
    // "key=value,key=value" (items trimmed, empty items dropped). Each key and value is checked.
    void labels(const char* key, Labels& out) {
        const KeyPath path = declare(key, true);
        if (schemaOnly_) return;
        if (auto text = ctx_.takeOverride(envName(path))) {
            ctx_.remember(path, fromEnv(path));
            const Raw raw{*text, fromEnv(path)};
            out.clear();
            for (const auto& item : split(*text, ',')) {
                const std::string pair = trim(item);
                if (pair.empty()) continue;
                const auto eq = pair.find('=');
                if (eq == std::string::npos) fail(problem(key, "'" + pair + "' is not key=value", raw));
                addLabel(key, out, trim(pair.substr(0, eq)), trim(pair.substr(eq + 1)), raw);
            }
            return;
        }
        const auto entry = find(key);
        if (!entry) return;
        const Raw raw{{}, "at " + ctx_.at(entry->key.Mark())};
        ctx_.remember(path, raw.where);
        if (!entry->value.IsMap())
            fail(problem(key, "expected a mapping of strings, got " + nodeKind(entry->value), raw));
        out.clear();
        for (const auto& item : entry->value) {
            if (!item.first.IsScalar() || !item.second.IsScalar())
                fail(problem(key, "expected a mapping of strings, got an entry that is " + nodeKind(item.second),
                             raw));
            addLabel(key, out, item.first.Scalar(), item.second.Scalar(), raw);
        }
    }

    // Any YAML mapping, kept as one JSON object (variables for a recipe). Plain scalars become
    // JSON booleans, numbers and null the way YAML 1.2's core schema reads them; quoted ones stay
    // strings. Bounded: kMaxJsonDepth levels, kMaxJsonBytes of JSON. Not from the environment.
    void jsonObject(const char* key, std::string& out) {
        const auto entry = mappingFromYaml(key, "a mapping");
        if (!entry) return;
        JsonWriter json;
        writeYamlAsJson(key, json, entry->value, 0);
        if (json.str().size() > kMaxJsonBytes)
            fail(problem(key, "is larger than " + std::to_string(kMaxJsonBytes) + " bytes as JSON", entry->key));
        out = json.str();
    }

    template <class T>
    void section(const char* key, T& out, void (*read)(Section&, T&)) {
        const KeyPath path = declare(key, false);
        const auto entry = schemaOnly_ ? std::nullopt : find(key);
        if (entry && !entry->value.IsMap())
            fail(problem(key, "expected a mapping, got " + nodeKind(entry->value), entry->key));
        const std::string where = entry ? "at " + ctx_.at(entry->key.Mark()) : where_;
        Section inner(ctx_, entry ? entry->value : YAML::Node(), path, where, schemaOnly_);
        read(inner, out);
        inner.finish();
    }

    // A mapping that means something by being there: `out` is set (from its defaults, then the
    // keys given) only when the key is present.
    template <class T>
    void optionalSection(const char* key, std::optional<T>& out, void (*read)(Section&, T&)) {
        const KeyPath path = declare(key, false);
        const auto entry = schemaOnly_ ? std::nullopt : find(key);
        if (entry && !entry->value.IsMap())
            fail(problem(key, "expected a mapping, got " + nodeKind(entry->value), entry->key));
        const std::string where = entry ? "at " + ctx_.at(entry->key.Mark()) : where_;
        T value{};
        Section inner(ctx_, entry ? entry->value : YAML::Node(), path, where, schemaOnly_ || !entry);
        read(inner, value);
        inner.finish();
        if (entry) out = std::move(value);
    }

    // Items are mappings. The environment can override keys of existing items, never add items.
    template <class T>
    void list(const char* key, std::vector<T>& out, void (*read)(Section&, T&)) {
        const KeyPath path = declare(key, false);
        if (!schemaOnly_) readItems(key, path, out, read);
        T unused{};
        Section schema(ctx_, YAML::Node(), child(path, std::string(kAnyIndex)), where_, true);
        read(schema, unused);
    }

    // Every key present in the YAML must have been read.
    void finish() const {
        for (const auto& [key, entry] : entries_) {
            if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
            auto best = closest(key, known_);
            if (best) best = "'" + displayPath(child(path_, *best)) + "'";
            fail("unknown key '" + displayPath(child(path_, key)) + "' in " + ctx_.at(entry.key.Mark()) +
                 didYouMean(best));
        }
    }

private:
    struct Entry {
        YAML::Node key;
        YAML::Node value;
    };
    struct Raw {
        std::string text;
        std::string where;
    };

    void index(const YAML::Node& node) {
        if (!node.IsMap()) return;
        for (const auto& kv : node) {
            if (!kv.first.IsScalar())
                fail(displayPath(path_) + ": keys must be plain strings (at " + ctx_.at(kv.first.Mark()) + ")");
            const std::string key = kv.first.Scalar();
            if (entries_.count(key))
                fail("duplicate key '" + displayPath(child(path_, key)) + "' in " + ctx_.at(kv.first.Mark()));
            entries_.emplace(key, Entry{kv.first, kv.second});
        }
    }

    KeyPath declare(const char* key, bool scalarKey) {
        known_.emplace_back(key);
        KeyPath path = child(path_, key);
        if (scalarKey) ctx_.registerKey(path);
        return path;
    }

    // A null value counts as absent, so `key:` with nothing after it keeps the default.
    std::optional<Entry> find(const std::string& key) const {
        const auto it = entries_.find(key);
        if (it == entries_.end() || it->second.value.IsNull()) return std::nullopt;
        return it->second;
    }

    // The text of a scalar key, from the environment if overridden; nullopt when absent.
    std::optional<Raw> scalar(const char* key, std::string_view expected) {
        const KeyPath path = declare(key, true);
        if (schemaOnly_) return std::nullopt;
        if (auto text = ctx_.takeOverride(envName(path))) {
            ctx_.remember(path, fromEnv(path));
            return Raw{*text, fromEnv(path)};
        }
        const auto entry = find(key);
        if (!entry) return std::nullopt;
        Raw raw{{}, "at " + ctx_.at(entry->key.Mark())};
        ctx_.remember(path, raw.where);
        if (!entry->value.IsScalar())
            fail(problem(key, "expected " + std::string(expected) + ", got " + nodeKind(entry->value), raw));
        raw.text = entry->value.Scalar();
        return raw;
    }

    template <class T>
    void readItems(const char* key, const KeyPath& path, std::vector<T>& out, void (*read)(Section&, T&)) {
        const auto entry = find(key);
        size_t count = out.size();
        if (entry) {
            if (!entry->value.IsSequence())
                fail(problem(key, "expected a list, got " + nodeKind(entry->value), entry->key));
            std::vector<T> items;
            for (const auto& node : entry->value) {
                const KeyPath itemPath = child(path, std::to_string(items.size()));
                const std::string where = "at " + ctx_.at(node.Mark());
                if (!node.IsMap())
                    fail(displayPath(itemPath) + ": expected a mapping, got " + nodeKind(node) + " (" + where + ")");
                ctx_.remember(itemPath, where);
                Section inner(ctx_, node, itemPath, where, false);
                T item{};
                read(inner, item);
                inner.finish();
                items.push_back(std::move(item));
            }
            out = std::move(items);
            count = out.size();
        }
        ctx_.registerList(path, count);
    }

    static constexpr size_t kMaxLabelLength = 63;
    static constexpr size_t kMaxLabels = 64;

    void addLabel(const char* key, Labels& out, const std::string& name, const std::string& value, const Raw& raw) {
        const auto allowed = [](char c, bool upperToo) {
            return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                   c == '.' || c == '_' || c == '-' || (upperToo && std::isupper(static_cast<unsigned char>(c)));
        };
        const auto shown = [](const std::string& t) { return t.size() > 80 ? t.substr(0, 80) + "..." : t; };
        if (name.empty() || name.size() > kMaxLabelLength || !std::isalnum(static_cast<unsigned char>(name[0])) ||
            !std::all_of(name.begin(), name.end(), [&](char c) { return allowed(c, false); }))
            fail(problem(key, "label key '" + shown(name) + "' must be 1-63 of a-z 0-9 . _ - starting with a letter or digit",
                         raw));
        if (value.size() > kMaxLabelLength || !std::all_of(value.begin(), value.end(), [&](char c) { return allowed(c, true); }))
            fail(problem(key, "label value '" + shown(value) + "' (key '" + name + "') must be 0-63 of A-Z a-z 0-9 . _ -",
                         raw));
        if (!out.emplace(name, value).second) fail(problem(key, "duplicate label key '" + name + "'", raw));
        if (out.size() > kMaxLabels) fail(problem(key, "more than " + std::to_string(kMaxLabels) + " labels", raw));
    }

    std::string fromEnv(const KeyPath& path) const { return "from environment variable " + envName(path); }

    std::string problem(const char* key, const std::string& what, const std::optional<Raw>& raw) const {
        return displayPath(child(path_, key)) + ": " + what + " (" + (raw ? raw->where : where_) + ")";
    }

    // A key whose value must be a YAML mapping (never from the environment): its entry, or none
    // when absent or only the schema is read.
    std::optional<Entry> mappingFromYaml(const char* key, const char* what) {
        declare(key, false);
        if (schemaOnly_) return std::nullopt;
        auto entry = find(key);
        if (!entry) return std::nullopt;
        ctx_.remember(child(path_, key), "at " + ctx_.at(entry->key.Mark()));
        if (!entry->value.IsMap())
            fail(problem(key, std::string("expected ") + what + ", got " + nodeKind(entry->value), entry->key));
        return entry;
    }

    static constexpr size_t kMaxJsonDepth = 16;
    static constexpr size_t kMaxJsonBytes = 64 * 1024;

    void writeYamlAsJson(const char* key, JsonWriter& json, const YAML::Node& node, size_t depth) const {
        if (depth > kMaxJsonDepth)
            fail(problem(key, "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels", node));
        if (node.IsMap()) {
            json.beginObject();
            for (const auto& item : node) {
                if (!item.first.IsScalar()) fail(problem(key, "has a key that is " + nodeKind(item.first), item.first));
                json.key(item.first.Scalar());
                writeYamlAsJson(key, json, item.second, depth + 1);
            }
            json.endObject();
        } else if (node.IsSequence()) {
            json.beginArray();
            for (const auto& item : node) writeYamlAsJson(key, json, item, depth + 1);
            json.endArray();
        } else if (node.IsNull()) {
            json.null();
        } else {
            const std::string& text = node.Scalar();
            if (node.Tag() == "!") {  // quoted: a string whatever it looks like
                json.value(text);
            } else if (text == "true" || text == "false") {
                json.value(text == "true");
            } else if (isJsonNumber(text)) {
                json.raw(text);
            } else {
                json.value(text);
            }
        }
    }

    // An integer or decimal as JSON writes it (YAML 1.2 core: no leading "+", no hex here).
    static bool isJsonNumber(const std::string& t) {
        size_t i = t.size() > 0 && t[0] == '-' ? 1 : 0;
        const size_t digits = i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
        if (i == digits || (t[digits] == '0' && i - digits > 1)) return false;
        if (i < t.size() && t[i] == '.') {
            const size_t frac = ++i;
            while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
            if (i == frac) return false;
        }
        return i == t.size() && t.size() <= 20;
    }

    std::string problem(const char* key, const std::string& what, const YAML::Node& node) const {
        return displayPath(child(path_, key)) + ": " + what + " (at " + ctx_.at(node.Mark()) + ")";
    }

    Context& ctx_;
    KeyPath path_;
    std::string where_;
    bool schemaOnly_;
    std::map<std::string, Entry> entries_;
    std::vector<std::string> known_;
};

// ---- the schema: one line per key --------------------------------------------------------

void readTls(Section& s, TlsConfig& c) {
    s.string("cert", c.cert);
    s.string("key", c.key);
}

void readServer(Section& s, ServerConfig& c) {
    s.string("host", c.host, 1);
    s.uint("port", c.port, 1, 65535);
    s.uint("max_body_bytes", c.max_body_bytes, 1);
    s.uint("threads", c.threads, 1, 1024);
    s.uint("max_connections", c.max_connections, 1, 1000000);
    s.uint("max_connections_per_client", c.max_connections_per_client, 1, 1000000);
    s.uint("head_timeout_s", c.head_timeout_s, 1, 3600);
    s.uint("body_timeout_s", c.body_timeout_s, 1, 3600);
    s.uint("idle_timeout_s", c.idle_timeout_s, 1, 86400);
    s.uint("write_timeout_s", c.write_timeout_s, 1, 3600);
    s.uint("max_websockets", c.max_websockets, 1, 1000000);
    s.uint("max_websockets_per_token", c.max_websockets_per_token, 1, 1000000);
    s.uint("websocket_ping_interval_s", c.websocket_ping_interval_s, 1, 3600);
    s.uint("websocket_idle_timeout_s", c.websocket_idle_timeout_s, 2, 86400);
    s.stringList("public_paths", c.public_paths);
    s.stringList("allowed_origins", c.allowed_origins);
    s.stringList("allowed_hosts", c.allowed_hosts);
    s.uint("max_waiting_allocations", c.max_waiting_allocations, 0, 1024, true);
    s.section("tls", c.tls, readTls);
    s.string("public_url", c.public_url);
    s.stringList("trusted_proxies", c.trusted_proxies);
}

void readPaths(Section& s, PathsConfig& c) {
    s.string("state_dir", c.state_dir, 1);
    s.string("log_dir", c.log_dir, 1);
    s.stringList("plugin_dirs", c.plugin_dirs);
    s.string("web_dir", c.web_dir, 1);
}

void readRecording(Section& s, RecordingConfig& c) {
    s.boolean("enabled", c.enabled);
    s.string("plugin", c.plugin, 1);
    s.string("directory", c.directory);
    s.boolean("record_input", c.record_input);
}

void readCompat(Section& s, CompatConfig& c) { s.uint("stop_timeout_s", c.stop_timeout_s, 0, 86400); }

void readToken(Section& s, TokenConfig& c) {
    s.string("name", c.name, 1);
    s.string("token", c.token, 1);
    s.choice("role", c.role);
    s.string("owner", c.owner);
}

void readAuth(Section& s, AuthConfig& c) {
    s.choice("mode", c.mode);
    s.list("tokens", c.tokens, readToken);
}

void readBackups(Section& s, BackupPolicy& c) {
    s.uint("keep", c.keep, 1, 1000);
    s.string("directory", c.directory);
}

void readWatchPolicy(Section& s, WatchPolicy& c) {
    s.string("snapshot", c.snapshot, 1);
    s.seconds("heartbeat_timeout_s", c.heartbeat_timeout_ms, 1000, 86400000);
    s.seconds("check_interval_s", c.check_interval_ms, 100, 60000);
    s.seconds("startup_grace_s", c.startup_grace_ms, 0, 3600000);
    s.seconds("startup_max_wait_s", c.startup_max_wait_ms, 1000, 86400000);
    s.choice("probe", c.probe);
    s.boolean("auto_revert", c.auto_revert);
    s.boolean("revert_on_start", c.revert_on_start);
}

void readWatch(Section& s, WatchConfig& c) {
    s.stringList("heartbeat_sources", c.heartbeat_sources);
    s.uint("heartbeat_rate_per_s", c.heartbeat_rate_per_s, 1, 1000);
    s.string("guest_url", c.guest_url);
}

void readExhibit(Section& s, ExhibitConfig& c) {
    s.string("vm", c.vm);
    s.string("site", c.site);
}

void readProvisionPolicy(Section& s, ProvisionPolicy& c) {
    s.string("playbook", c.playbook, 1);
    s.jsonObject("extra_vars", c.extra_vars_json);
    s.boolean("on_create", c.on_create);
    s.uint("timeout_s", c.timeout_s, 1, 86400);
}

void readProvisioning(Section& s, ProvisioningConfig& c) {
    s.string("plugin", c.plugin);
    s.uint("max_parallel", c.max_parallel, 1, 64);
    s.stringMap("settings", c.settings);
}

void readTemplate(Section& s, TemplateConfig& c) {
    s.name("name", c.name, "template name");
    s.string("base_image", c.base_image);
    s.oneOf("base_format", c.base_format, {"qcow2", "raw"});
    s.string("kernel", c.kernel);
    s.string("initrd", c.initrd);
    s.string("cmdline", c.cmdline);
    s.uint("vcpus", c.vcpus, limits::kMinVcpus, limits::kMaxVcpus, true);
    s.uint("memory_mb", c.memory_mb, limits::kMinMemoryMb, limits::kMaxMemoryMb, true);
    s.boolean("snapshot_on_stop", c.snapshot_on_stop);
    s.uint("snapshot_on_stop_keep", c.snapshot_on_stop_keep, 1, 1000);
    s.uint("snapshot_limit", c.snapshot_limit, 1, 1000);
    s.section("backups", c.backups, readBackups);
    s.optionalSection("watch", c.watch, readWatchPolicy);
    s.optionalSection("provision", c.provision, readProvisionPolicy);
    s.labels("site_selector", c.site_selector);
}

void readPool(Section& s, PoolConfig& c) {
    s.name("name", c.name, "pool name");
    s.string("template", c.template_name);
    s.uint("min_idle", c.min_idle, 0, 10000);
    s.uint("max_total", c.max_total, 1, 10000);
    s.choice("mode", c.mode);
    s.uint("max_per_owner", c.max_per_owner, 0, 10000);
    s.choice("on_empty", c.on_empty);
    s.uint("default_ttl_s", c.default_ttl_s, 1, limits::kMaxLeaseTtlSeconds);
    s.uint("max_ttl_s", c.max_ttl_s, 1, limits::kMaxLeaseTtlSeconds);
}

// A deployment-wide pool: a site's pool plus the sites it spans.
void readSpanningPool(Section& s, PoolConfig& c) {
    readPool(s, c);
    s.stringList("sites", c.sites);
    s.labels("site_selector", c.site_selector);
}

void readSite(Section& s, SiteConfig& c) {
    s.name("name", c.name, "site name");
    s.string("backend", c.backend, 1);
    s.string("uri", c.uri, 1);
    s.string("ssh_key", c.ssh_key);
    s.string("known_hosts", c.known_hosts);
    s.string("guest_ssh_host", c.guest_ssh_host);
    s.string("ssh_forward_address", c.ssh_forward_address, 1);
    s.choice("domain_type", c.domain_type);
    s.string("storage_pool", c.storage_pool, 1);
    s.choice("network_mode", c.network_mode);
    s.string("network_name", c.network_name, 1);
    s.uint("default_vcpus", c.default_vcpus, limits::kMinVcpus, limits::kMaxVcpus);
    s.uint("default_memory_mb", c.default_memory_mb, limits::kMinMemoryMb, limits::kMaxMemoryMb);
    s.uint("stop_timeout_s", c.stop_timeout_s, 0, 86400);
    s.string("ssh_user", c.ssh_user, 1);
    s.uint("ssh_port_min", c.ssh_port_min, 1024, 65535);
    s.uint("ssh_port_max", c.ssh_port_max, 1024, 65535);
    s.uint("ready_timeout_s", c.ready_timeout_s, 1, 86400);
    s.seconds("poll_interval_s", c.poll_interval_ms, 500, 3600000);
    s.string("default_template", c.default_template);
    s.uint("max_vms", c.max_vms, 0, 1000000);
    s.uint("max_memory_mb", c.max_memory_mb, 0, uint64_t{1} << 40);
    s.labels("labels", c.labels);
    s.list("templates", c.templates, readTemplate);
    s.list("pools", c.pools, readPool);
}

void readPlacement(Section& s, PlacementConfig& c) { s.choice("policy", c.policy); }

void readConfig(Section& s, Config& c) {
    s.section("server", c.server, readServer);
    s.section("paths", c.paths, readPaths);
    s.section("auth", c.auth, readAuth);
    s.section("recording", c.recording, readRecording);
    s.section("provisioning", c.provisioning, readProvisioning);
    s.section("compat", c.compat, readCompat);
    s.section("watch", c.watch, readWatch);
    s.section("exhibit", c.exhibit, readExhibit);
    s.section("placement", c.placement, readPlacement);
    s.list("sites", c.sites, readSite);
    s.list("pools", c.pools, readSpanningPool);
}

// ---- checks across keys ------------------------------------------------------------------

[[noreturn]] void failAt(const Context& ctx, const KeyPath& path, const std::string& what) {
    fail(displayPath(path) + ": " + what + " (" + ctx.where(path) + ")");
}

// Read at startup by the server; checked here so that --check-config names a missing file too.
void checkReadable(const Context& ctx, const KeyPath& path, const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    char first = 0;
    if (!in || !in.get(first)) {
        const int error = errno;
        failAt(ctx, path,
               "cannot read '" + file + "': " + (!in.is_open() ? std::strerror(error) : "empty or not a file"));
    }
}

void checkTls(const Context& ctx, const TlsConfig& c) {
    const KeyPath cert{"server", "tls", "cert"};
    const KeyPath key{"server", "tls", "key"};
    if (c.cert.empty() != c.key.empty()) {
        const KeyPath& missing = c.cert.empty() ? cert : key;
        const KeyPath& given = c.cert.empty() ? key : cert;
        fail(displayPath(missing) + ": required when " + displayPath(given) + " is set (" + ctx.where(given) +
             "): TLS needs both the certificate and its private key");
    }
    if (!c.enabled()) return;
    checkReadable(ctx, cert, c.cert);
    checkReadable(ctx, key, c.key);
}

// URLs handed to clients are built by appending paths to it: scheme://authority[/prefix] only.
void checkBaseUrl(const Context& ctx, const KeyPath& path, const std::string& url) {
    if (url.empty()) return;
    const auto sep = url.find("://");
    const std::string scheme = sep == std::string::npos ? std::string() : url.substr(0, sep);
    if (scheme != "http" && scheme != "https") failAt(ctx, path, "'" + url + "' must start with http:// or https://");
    const std::string rest = url.substr(sep + 3);
    const std::string authority = rest.substr(0, rest.find('/'));
    if (authority.empty()) failAt(ctx, path, "'" + url + "' names no host");
    for (const char ch : url) {
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '?' || ch == '#' || ch == '@' || ch == '\\')
            failAt(ctx, path,
                   "'" + url + "' must be scheme://host[:port][/prefix], without spaces, query, fragment or user");
    }
}

void checkServer(const Context& ctx, const ServerConfig& c) {
    checkTls(ctx, c.tls);
    checkBaseUrl(ctx, {"server", "public_url"}, c.public_url);
    for (const auto& proxy : c.trusted_proxies) {
        if (auto network = IpNetwork::parse(proxy); !network)
            failAt(ctx, {"server", "trusted_proxies"}, network.error().message);
    }
    if (c.websocket_idle_timeout_s <= c.websocket_ping_interval_s)
        failAt(ctx, {"server", "websocket_idle_timeout_s"},
               "must be longer than websocket_ping_interval_s (" + std::to_string(c.websocket_ping_interval_s) +
                   "), or clients never get a chance to answer a ping");
    for (const auto& p : c.public_paths) {
        if (p.empty() || p.front() != '/')
            failAt(ctx, {"server", "public_paths"}, "'" + p + "' does not start with '/'");
    }
    for (const auto& h : c.allowed_hosts) {
        if (h.empty() || h.find_first_of(" /\t@?#") != std::string::npos)
            failAt(ctx, {"server", "allowed_hosts"}, "'" + h + "' is not a host name or name:port");
    }
    if (c.max_waiting_allocations >= c.threads && c.threads > 1)
        failAt(ctx, {"server", "max_waiting_allocations"},
               "must be below server.threads (" + std::to_string(c.threads) +
                   "), or waiting allocations can take every worker");
}

void checkPaths(const Context& ctx, const PathsConfig& c) {
    for (const auto& dir : c.plugin_dirs) {
        if (dir.empty()) failAt(ctx, {"paths", "plugin_dirs"}, "must not contain an empty entry");
    }
}

void checkAuth(const Context& ctx, const AuthConfig& c) {
    std::map<std::string, size_t> names;
    std::map<std::string, size_t> tokens;
    for (size_t i = 0; i < c.tokens.size(); ++i) {
        const auto& t = c.tokens[i];
        const KeyPath item{"auth", "tokens", std::to_string(i)};
        if (c.mode == AuthMode::Token && t.token.size() < kMinTokenLength)
            failAt(ctx, child(item, "token"),
                   "tokens must be at least " + std::to_string(kMinTokenLength) + " characters long");
        if (auto owner = validateOwner(t.owner, false); !owner)
            failAt(ctx, child(item, "owner"), owner.error().message);
        if (const auto [it, added] = names.emplace(t.name, i); !added)
            failAt(ctx, child(item, "name"),
                   "duplicate token name '" + t.name + "' (also auth.tokens[" + std::to_string(it->second) + "])");
        // The value is a secret: name the other entry, never the token itself.
        if (const auto [it, added] = tokens.emplace(t.token, i); !added)
            failAt(ctx, child(item, "token"), "same token as auth.tokens[" + std::to_string(it->second) + "]");
    }
}

void checkTemplates(const Context& ctx, const SiteConfig& site, const KeyPath& sitePath) {
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < site.templates.size(); ++i) {
        const auto& t = site.templates[i];
        const KeyPath item = child(child(sitePath, "templates"), std::to_string(i));
        if (const auto [it, added] = seen.emplace(t.name, i); !added)
            failAt(ctx, child(item, "name"),
                   "duplicate template name '" + t.name + "' (also templates[" + std::to_string(it->second) + "])");
        // libvirt ignores initrd and cmdline without a kernel, which would hide the mistake.
        if (t.kernel.empty() && !t.initrd.empty()) failAt(ctx, child(item, "initrd"), "requires kernel to be set");
        if (t.kernel.empty() && !t.cmdline.empty()) failAt(ctx, child(item, "cmdline"), "requires kernel to be set");
        // The stop snapshot is taken before the oldest automatic one is pruned: with keep >= limit
        // every stop after the first `limit` would fail for want of room.
        if (t.watch) {
            if (auto valid = validateName(t.watch->snapshot, "snapshot name"); !valid)
                failAt(ctx, child(child(item, "watch"), "snapshot"), valid.error().message);
        }
        if (t.snapshot_on_stop && t.snapshot_on_stop_keep >= t.snapshot_limit)
            failAt(ctx, child(item, "snapshot_on_stop_keep"),
                   std::to_string(t.snapshot_on_stop_keep) + " leaves no room below snapshot_limit (" +
                       std::to_string(t.snapshot_limit) + ") for the next stop's snapshot");
    }
    if (!site.default_template.empty() && !seen.count(site.default_template))
        failAt(ctx, child(sitePath, "default_template"),
               "no template named '" + site.default_template + "' in this site");
}

// Pool VMs are named <pool>-<8 hex digits>, which must stay a valid VM name.
constexpr size_t kMaxPoolNameLength = 54;

// Every pool, a site's or a deployment-wide one: a name that leaves room for VM names' suffix and
// is unique across the deployment (`seen`: name -> the site that has it, or kSpanningPools, which
// no site name can be).
constexpr const char* kSpanningPools = "";
void checkPoolName(const Context& ctx, const PoolConfig& p, const KeyPath& item, const std::string& where,
                   std::map<std::string, std::string>& seen) {
    if (p.name.size() > kMaxPoolNameLength)
        failAt(ctx, child(item, "name"),
               "at most " + std::to_string(kMaxPoolNameLength) + " characters (VM names get a suffix)");
    if (const auto [it, added] = seen.emplace(p.name, where); !added)
        failAt(ctx, child(item, "name"),
               "duplicate pool name '" + p.name + "' (also in " +
                   (it->second == kSpanningPools ? std::string("pools") : "site '" + it->second + "'") +
                   "); pool names are global");
}

// Every pool: its sizes and lease times agree with each other.
void checkPoolLimits(const Context& ctx, const PoolConfig& p, const KeyPath& item) {
    if (p.min_idle > p.max_total)
        failAt(ctx, child(item, "min_idle"), "must not exceed max_total (" + std::to_string(p.max_total) + ")");
    if (p.default_ttl_s > p.max_ttl_s)
        failAt(ctx, child(item, "default_ttl_s"), "must not exceed max_ttl_s (" + std::to_string(p.max_ttl_s) + ")");
}

void checkPools(const Context& ctx, const SiteConfig& site, const KeyPath& sitePath,
                std::map<std::string, std::string>& seen) {
    for (size_t i = 0; i < site.pools.size(); ++i) {
        const auto& p = site.pools[i];
        const KeyPath item = child(child(sitePath, "pools"), std::to_string(i));
        checkPoolName(ctx, p, item, site.name, seen);
        if (findTemplate(site, p.template_name) == nullptr) {
            const std::string& t = p.template_name.empty() ? site.default_template : p.template_name;
            failAt(ctx, child(item, "template"),
                   t.empty() ? "no template to use: the site has none" : "no template named '" + t + "' in this site");
        }
        checkPoolLimits(ctx, p, item);
    }
}

void checkWatch(const Context& ctx, const WatchConfig& c) {
    for (const auto& source : c.heartbeat_sources) {
        if (auto network = IpNetwork::parse(source); !network)
            failAt(ctx, {"watch", "heartbeat_sources"}, network.error().message);
    }
    checkBaseUrl(ctx, {"watch", "guest_url"}, c.guest_url);
}

void checkExhibit(const Context& ctx, const ExhibitConfig& c, const std::vector<SiteConfig>& sites) {
    if (c.vm.empty()) {
        if (!c.site.empty()) failAt(ctx, {"exhibit", "site"}, "names a site but exhibit.vm names no VM");
        return;
    }
    if (auto valid = validateExistingName(c.vm, "VM name"); !valid) failAt(ctx, {"exhibit", "vm"}, valid.error().message);
    if (!c.site.empty() && std::none_of(sites.begin(), sites.end(), [&](const SiteConfig& s) { return s.name == c.site; }))
        failAt(ctx, {"exhibit", "site"}, "no site named '" + c.site + "'");
}

// The transport word of a libvirt URI ("qemu+libssh2://..." -> "libssh2"; none: "").
std::string uriTransport(const std::string& uri) {
    const auto scheme = uri.substr(0, uri.find(':'));
    const auto plus = scheme.find('+');
    return plus == std::string::npos ? std::string() : scheme.substr(plus + 1);
}

void checkRemoteAccess(const Context& ctx, const SiteConfig& site, const KeyPath& path) {
    const std::string transport = uriTransport(site.uri);
    const bool ssh = transport == "ssh" || transport == "libssh2" || transport == "libssh";
    if (!site.ssh_key.empty()) {
        if (!ssh)
            failAt(ctx, child(path, "ssh_key"),
                   "needs an SSH transport in uri (qemu+ssh://, qemu+libssh2:// or qemu+libssh://), not '" + site.uri +
                       "'");
        checkReadable(ctx, child(path, "ssh_key"), site.ssh_key);
    }
    if (!site.known_hosts.empty()) {
        if (transport != "libssh2" && transport != "libssh")
            failAt(ctx, child(path, "known_hosts"),
                   "needs the libssh2 or libssh transport (qemu+libssh2://user@host/system); with '" + site.uri +
                       "' libvirt runs ssh(1), which checks the known_hosts of the user paddockd runs as");
        checkReadable(ctx, child(path, "known_hosts"), site.known_hosts);
    }
    if (site.uri.find_first_of(" \t\r\n") != std::string::npos)
        failAt(ctx, child(path, "uri"), "must not contain white space");
    if (!site.guest_ssh_host.empty() &&
        (site.guest_ssh_host.size() > 253 ||
         site.guest_ssh_host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
             std::string::npos ||
         site.guest_ssh_host.front() == '-'))
        failAt(ctx, child(path, "guest_ssh_host"), "'" + site.guest_ssh_host + "' is not a host name or IP address");
    if (site.ssh_forward_address.find('/') != std::string::npos || !IpNetwork::parse(site.ssh_forward_address))
        failAt(ctx, child(path, "ssh_forward_address"),
               "'" + site.ssh_forward_address + "' is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or ::1)");
}

// Deployment-wide pools: a pool's own checks, plus its sites (known, matching its selector, each
// holding its template).
void checkSpanningPools(const Context& ctx, const Config& config, std::map<std::string, std::string>& seen) {
    for (size_t i = 0; i < config.pools.size(); ++i) {
        const PoolConfig& p = config.pools[i];
        const KeyPath item{"pools", std::to_string(i)};
        std::set<std::string> listed;
        for (const auto& name : p.sites) {
            if (std::none_of(config.sites.begin(), config.sites.end(),
                             [&](const SiteConfig& site) { return site.name == name; }))
                failAt(ctx, child(item, "sites"), "no site named '" + name + "'");
            if (!listed.insert(name).second) failAt(ctx, child(item, "sites"), "site '" + name + "' is listed twice");
        }
        const auto sites = poolSites(config, p);
        if (sites.empty())
            failAt(ctx, child(item, p.site_selector.empty() ? "sites" : "site_selector"),
                   "the pool spans no site: no site listed matches its site_selector");
        for (const SiteConfig* site : sites) {
            if (findTemplate(*site, p.template_name) != nullptr) continue;
            const std::string& t = p.template_name.empty() ? site->default_template : p.template_name;
            failAt(ctx, child(item, "template"),
                   t.empty() ? "site '" + site->name + "' has no template to use"
                             : "site '" + site->name + "' has no template named '" + t +
                                   "' (a pool's template must exist on every site it spans)");
        }
        checkPoolName(ctx, p, item, kSpanningPools, seen);
        checkPoolLimits(ctx, p, item);
    }
}

void checkSites(const Context& ctx, const std::vector<SiteConfig>& sites, std::map<std::string, std::string>& pools) {
    if (sites.empty()) failAt(ctx, {"sites"}, "at least one site is required");
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < sites.size(); ++i) {
        const KeyPath path{"sites", std::to_string(i)};
        if (const auto [it, added] = seen.emplace(sites[i].name, i); !added)
            failAt(ctx, child(path, "name"),
                   "duplicate site name '" + sites[i].name + "' (also sites[" + std::to_string(it->second) + "])");
        if (sites[i].ssh_port_min > sites[i].ssh_port_max)
            failAt(ctx, child(path, "ssh_port_max"),
                   "must not be below ssh_port_min (" + std::to_string(sites[i].ssh_port_min) + ")");
        checkRemoteAccess(ctx, sites[i], path);
        checkTemplates(ctx, sites[i], path);
        checkPools(ctx, sites[i], path, pools);
    }
}

Config readAll(const std::string& yamlText, const Environment& env, const std::string& origin) {
    YAML::Node root;
    try {
        root = YAML::Load(yamlText);
    } catch (const YAML::ParserException& e) {
        fail("YAML syntax error in " + origin + ":" + std::to_string(e.mark.line + 1) + ":" +
             std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (!root.IsNull() && !root.IsMap()) fail(origin + ": expected a mapping at the top level, got " + nodeKind(root));
    Context ctx(env, origin);
    Config config;
    Section top(ctx, root, {}, "in " + origin, false);
    readConfig(top, config);
    top.finish();
    ctx.rejectUnusedOverrides();
    checkServer(ctx, config.server);
    checkPaths(ctx, config.paths);
    checkAuth(ctx, config.auth);
    std::map<std::string, std::string> pools;  // name -> where
    checkSites(ctx, config.sites, pools);
    checkSpanningPools(ctx, config, pools);
    checkWatch(ctx, config.watch);
    checkExhibit(ctx, config.exhibit, config.sites);
    return config;
}

}  // namespace

std::string connectionUri(const SiteConfig& site) {
    std::vector<std::pair<std::string, std::string>> params;
    const std::string transport = uriTransport(site.uri);
    if (!site.ssh_key.empty()) {
        params.emplace_back("keyfile", site.ssh_key);
        if (transport == "libssh2" || transport == "libssh") params.emplace_back("sshauth", "privkey");
    }
    if (!site.known_hosts.empty()) params.emplace_back("known_hosts", site.known_hosts);
    if (params.empty()) return site.uri;
    // RFC 3986 unreserved characters and '/' stay; everything else is %XX, so that a path
    // holding '&', '=' or '#' cannot add or end a parameter.
    const auto encode = [](const std::string& value) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        std::string out;
        for (const unsigned char ch : value) {
            if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
                out += static_cast<char>(ch);
            } else {
                out += '%';
                out += kHex[ch >> 4];
                out += kHex[ch & 15];
            }
        }
        return out;
    };
    std::string uri = site.uri;
    const auto fragment = uri.find('#');
    const std::string tail = fragment == std::string::npos ? std::string() : uri.substr(fragment);
    if (fragment != std::string::npos) uri.resize(fragment);
    char sep = uri.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [key, value] : params) {
        uri += sep + key + '=' + encode(value);
        sep = '&';
    }
    return uri + tail;
}

bool labelsMatch(const Labels& selector, const Labels& labels) {
    return std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
        const auto it = labels.find(kv.first);
        return it != labels.end() && it->second == kv.second;
    });
}

uint64_t templateMemoryMb(const SiteConfig& site, const TemplateConfig* tmpl) noexcept {
    return tmpl != nullptr && tmpl->memory_mb != 0 ? tmpl->memory_mb : site.default_memory_mb;
}

std::vector<const SiteConfig*> poolSites(const Config& config, const PoolConfig& pool) {
    std::vector<const SiteConfig*> out;
    for (const auto& site : config.sites) {
        if (!pool.sites.empty() && std::find(pool.sites.begin(), pool.sites.end(), site.name) == pool.sites.end())
            continue;
        if (labelsMatch(pool.site_selector, site.labels)) out.push_back(&site);
    }
    return out;
}

const TemplateConfig* findTemplate(const SiteConfig& site, std::string_view name) noexcept {
    const std::string_view wanted = name.empty() ? std::string_view(site.default_template) : name;
    if (wanted.empty()) return site.templates.empty() ? nullptr : &site.templates.front();
    for (const auto& t : site.templates)
        if (t.name == wanted) return &t;
    return nullptr;
}

Environment processEnvironment() {
    Environment env;
    for (char** entry = environ; entry && *entry; ++entry) {
        const std::string_view text(*entry);
        const auto eq = text.find('=');
        if (eq == std::string_view::npos || text.rfind(kEnvPrefix, 0) != 0) continue;
        env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
    return env;
}

Result<Config> parseConfig(const std::string& yamlText, const Environment& env, const std::string& origin) {
    try {
        return readAll(yamlText, env, origin);
    } catch (const ConfigError& e) {
        return makeError(ErrorCode::InvalidArgument, e.message);
    } catch (const YAML::Exception& e) {
        return makeError(ErrorCode::InvalidArgument, origin + ": " + e.what());
    }
}

Result<Config> loadConfig(const std::string& path, const Environment& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::InvalidArgument,
                         "cannot read configuration file " + path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return makeError(ErrorCode::InvalidArgument, "cannot read configuration file " + path);
    return parseConfig(text.str(), env, path);
}

}  // namespace paddock
