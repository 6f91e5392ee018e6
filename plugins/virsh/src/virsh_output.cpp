#include "virsh_output.hpp"

#include <paddock/cpp/error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace paddock::virsh {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (isBlank(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (isBlank(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && isBlank(line[i])) ++i;
        const size_t start = i;
        while (i < line.size() && !isBlank(line[i])) ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool containsNoCase(std::string_view haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
}

bool isHex(char c) { return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f'); }

std::string quoted(std::string_view what) { return std::string(what); }

}  // namespace

void checkArg(std::string_view value, std::string_view what, size_t maxBytes) {
    if (value.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, quoted(what) + " is empty");
    if (value.size() > maxBytes)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                         quoted(what) + " is longer than " + std::to_string(maxBytes) + " bytes");
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, quoted(what) + " holds a control character");
    }
    if (value.front() == '-')
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, quoted(what) + " '" + std::string(value) + "' starts with '-'");
}

void checkPath(std::string_view value, std::string_view what) {
    checkArg(value, what, kMaxPathBytes);
    if (value.front() != '/')
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, quoted(what) + " '" + std::string(value) + "' is not absolute");
}

void checkVolumeName(std::string_view value, std::string_view what) {
    checkArg(value, what);
    if (value.find('/') != std::string_view::npos || value == "." || value == "..")
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                         quoted(what) + " '" + std::string(value) + "' is not a plain file name");
}

bool nameVirshMayMisread(std::string_view name) {
    // As an id: strtol syntax over the whole string.
    std::string_view s = name;
    while (!s.empty() && (isBlank(s.front()) || s.front() == '\n' || s.front() == '\v' || s.front() == '\f' ||
                          s.front() == '\r'))
        s.remove_prefix(1);
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
    if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
    // As a UUID: 32 hex digits, dashes anywhere, blanks around.
    int hex = 0;
    for (const char c : trim(name)) {
        if (c == '-') continue;
        if (!isHex(c)) return false;
        ++hex;
    }
    return hex == 32;
}

std::vector<std::string> nonEmptyLines(std::string_view text) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) out.emplace_back(line);
        pos = end + 1;
    }
    return out;
}

std::vector<ListedDomain> parseUuidIdNameList(std::string_view text) {
    std::vector<ListedDomain> out;
    for (const std::string& line : nonEmptyLines(text)) {
        // virsh 9.0 prints "<uuid> <id> <name>" with single spaces; older ones pad the columns
        // or leave the id out. The name is the rest of the line after the blanks that follow
        // the id (so a name keeps inner and trailing blanks, not leading ones).
        const std::string_view l = line;
        if (l.size() < 38 || !isBlank(l[36])) continue;
        ListedDomain d;
        d.uuid = std::string(l.substr(0, 36));
        if (!std::all_of(d.uuid.begin(), d.uuid.end(), [](char c) { return isHex(c) || c == '-'; })) continue;
        size_t pos = 36;
        while (pos < l.size() && isBlank(l[pos])) ++pos;
        size_t tokenEnd = pos;
        while (tokenEnd < l.size() && !isBlank(l[tokenEnd])) ++tokenEnd;
        const std::string_view token = l.substr(pos, tokenEnd - pos);
        size_t nameAt = tokenEnd;
        while (nameAt < l.size() && isBlank(l[nameAt])) ++nameAt;
        const auto id = parseUnsigned(token);
        if (nameAt < l.size() && (token == "-" || (id && *id <= INT32_MAX))) {
            d.id = token == "-" ? -1 : static_cast<int32_t>(*id);
            d.name = std::string(l.substr(nameAt));
        } else {
            d.name = std::string(l.substr(pos));  // no id column
        }
        if (d.name.empty()) continue;
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<DomainStats> parseDomstats(std::string_view text) {
    std::vector<DomainStats> out;
    constexpr std::string_view kHead = "Domain: '";
    for (const std::string& line : nonEmptyLines(text)) {
        if (line.rfind(kHead, 0) == 0 && line.size() > kHead.size() && line.back() == '\'') {
            // The name is everything between the first quote and the last one: it may hold quotes.
            DomainStats d;
            d.name = line.substr(kHead.size(), line.size() - kHead.size() - 1);
            out.push_back(std::move(d));
            continue;
        }
        if (out.empty() || !isBlank(line.front())) continue;
        const std::string_view kv = trim(line);
        const size_t eq = kv.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        out.back().values[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    return out;
}

pdk_domain_state parseStateWord(std::string_view word) {
    static constexpr std::array<std::pair<std::string_view, pdk_domain_state>, 9> kWords = {{
        {"no state", PDK_DOMAIN_NOSTATE},
        {"running", PDK_DOMAIN_RUNNING},
        {"idle", PDK_DOMAIN_BLOCKED},
        {"paused", PDK_DOMAIN_PAUSED},
        {"in shutdown", PDK_DOMAIN_SHUTDOWN},
        {"shut off", PDK_DOMAIN_SHUTOFF},
        {"crashed", PDK_DOMAIN_CRASHED},
        {"pmsuspended", PDK_DOMAIN_PMSUSPENDED},
        {"blocked", PDK_DOMAIN_BLOCKED},
    }};
    const std::string_view w = trim(word);
    for (const auto& [text, state] : kWords) {
        if (w == text) return state;
    }
    return PDK_DOMAIN_NOSTATE;
}

DomainState parseDomstate(std::string_view text) {
    DomainState s;
    const auto lines = nonEmptyLines(text);
    if (lines.empty()) return s;
    std::string_view line = trim(lines.front());
    const size_t open = line.rfind(" (");
    if (open != std::string_view::npos && line.back() == ')') {
        s.reason = std::string(line.substr(open + 2, line.size() - open - 3));
        line = line.substr(0, open);
    }
    s.state = parseStateWord(line);
    return s;
}

bool isActiveState(pdk_domain_state state) {
    return state == PDK_DOMAIN_RUNNING || state == PDK_DOMAIN_BLOCKED || state == PDK_DOMAIN_PAUSED ||
           state == PDK_DOMAIN_SHUTDOWN || state == PDK_DOMAIN_PMSUSPENDED;
}

std::optional<uint64_t> parseUnsigned(std::string_view text) {
    const std::string_view t = trim(text);
    if (t.empty()) return std::nullopt;
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
    return v;
}

uint64_t parseSecondsToNs(std::string_view text) {
    std::string_view t = trim(text);
    if (!t.empty() && t.back() == 's') t.remove_suffix(1);
    t = trim(t);
    const size_t sep = t.find_first_of(".,");
    const auto whole = parseUnsigned(t.substr(0, sep));
    if (!whole) return 0;
    uint64_t ns = *whole * 1000000000ull;
    if (sep != std::string_view::npos) {
        const std::string_view frac = t.substr(sep + 1);
        if (frac.empty() || !std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return 0;
        uint64_t scale = 100000000ull;
        for (size_t i = 0; i < frac.size() && scale > 0; ++i, scale /= 10) ns += static_cast<uint64_t>(frac[i] - '0') * scale;
    }
    return ns;
}

uint64_t parseMemoryKib(std::string_view text) {
    const auto w = words(text);
    if (w.empty() || w.size() > 2) return 0;
    const auto n = parseUnsigned(w[0]);
    if (!n) return 0;
    const std::string_view unit = w.size() == 2 ? w[1] : "B";
    if (unit == "KiB" || unit == "K" || unit == "k") return *n;
    if (unit == "MiB" || unit == "M") return *n * 1024;
    if (unit == "GiB" || unit == "G") return *n * 1024 * 1024;
    if (unit == "TiB" || unit == "T") return *n * 1024 * 1024 * 1024;
    if (unit == "B" || unit == "bytes") return *n / 1024;
    return 0;
}

DomInfo parseDominfo(std::string_view text) {
    DomInfo d;
    for (const std::string& line : nonEmptyLines(text)) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string_view key = trim(std::string_view(line).substr(0, colon));
        const std::string_view value = trim(std::string_view(line).substr(colon + 1));
        if (key == "Name") d.name = std::string(value);
        else if (key == "UUID") d.uuid = std::string(value);
        else if (key == "Id") d.id = [&] {
            const auto n = parseUnsigned(value);
            return n && *n <= INT32_MAX ? static_cast<int32_t>(*n) : -1;
        }();
        else if (key == "State") d.state = parseStateWord(value);
        else if (key == "CPU(s)") d.vcpus = static_cast<uint32_t>(parseUnsigned(value).value_or(0));
        else if (key == "CPU time") d.cpuTimeNs = parseSecondsToNs(value);
        else if (key == "Max memory") d.maxMemoryKib = value == "no limit" ? 0 : parseMemoryKib(value);
        else if (key == "Used memory") d.memoryKib = parseMemoryKib(value);
        else if (key == "Managed save") d.managedSave = value == "yes";
    }
    return d;
}

uint64_t parseDottedVersion(std::string_view text) {
    const std::string_view t = trim(text);
    std::vector<uint64_t> parts;
    size_t pos = 0;
    for (;;) {
        const size_t dot = t.find('.', pos);
        const auto n = parseUnsigned(t.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos));
        if (!n || (*n > 999 && !parts.empty()) || *n > 1000000) return 0;
        parts.push_back(*n);
        if (dot == std::string_view::npos) break;
        pos = dot + 1;
    }
    if (parts.size() < 2 || parts.size() > 3) return 0;
    parts.resize(3, 0);
    return parts[0] * 1000000 + parts[1] * 1000 + parts[2];
}

VersionInfo parseVersion(std::string_view text) {
    VersionInfo v;
    for (const std::string& line : nonEmptyLines(text)) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string_view key = trim(std::string_view(line).substr(0, colon));
        const auto w = words(std::string_view(line).substr(colon + 1));
        if (w.size() < 2) continue;
        if (key == "Using library") v.libraryVersion = parseDottedVersion(w.back());
        if (key == "Using API") v.driver = std::string(w.front());
        if (key == "Running hypervisor") v.hypervisorVersion = parseDottedVersion(w.back());
    }
    return v;
}

std::optional<std::string> parseFirstIpv4(std::string_view text) {
    for (const std::string& line : nonEmptyLines(text)) {
        const auto w = words(line);
        // " vnet0  52:54:00:..  ipv4  192.168.122.10/24"; continuation lines name "-".
        if (w.size() != 4 || w[2] != "ipv4") continue;
        std::string_view addr = w[3];
        if (const size_t slash = addr.find('/'); slash != std::string_view::npos) addr = addr.substr(0, slash);
        // inet_pton takes exactly four decimal octets of 0..255 ("...", "1..2.3" and "999.0.0.1"
        // are no addresses; found by fuzzing).
        const std::string candidate(addr);
        in_addr parsed{};
        if (::inet_pton(AF_INET, candidate.c_str(), &parsed) != 1) continue;
        if ((ntohl(parsed.s_addr) >> 24) == 127) continue;
        return candidate;
    }
    return std::nullopt;
}

pdk_status statusForErrorText(std::string_view line) {
    struct Rule {
        std::string_view text;
        pdk_status status;
    };
    // First match wins: the transport and timeout texts before the ones an error about a lost
    // connection may also hold, "already exists" before "operation failed" and the like.
    static constexpr Rule kRules[] = {
        {"Timed out during operation", PDK_ERR_TIMEOUT},
        {"failed to connect to the hypervisor", PDK_ERR_UNAVAILABLE},
        {"no connection driver available", PDK_ERR_UNAVAILABLE},
        {"Failed to connect socket", PDK_ERR_UNAVAILABLE},
        {"Cannot recv data", PDK_ERR_UNAVAILABLE},
        {"Cannot write data", PDK_ERR_UNAVAILABLE},
        {"End of file while reading data", PDK_ERR_UNAVAILABLE},
        {"unable to connect to server", PDK_ERR_UNAVAILABLE},
        {"client socket is closed", PDK_ERR_UNAVAILABLE},
        {"authentication failed", PDK_ERR_UNAVAILABLE},
        {"Guest agent is not responding", PDK_ERR_UNAVAILABLE},
        {"guest agent is not connected", PDK_ERR_UNAVAILABLE},
        {"failed to get domain", PDK_ERR_NOT_FOUND},
        {"Domain not found", PDK_ERR_NOT_FOUND},
        {"no domain with matching", PDK_ERR_NOT_FOUND},
        {"Domain snapshot not found", PDK_ERR_NOT_FOUND},
        {"Domain checkpoint not found", PDK_ERR_NOT_FOUND},
        {"Storage volume not found", PDK_ERR_NOT_FOUND},
        {"Storage pool not found", PDK_ERR_NOT_FOUND},
        {"failed to get vol", PDK_ERR_NOT_FOUND},
        {"failed to get pool", PDK_ERR_NOT_FOUND},
        {"Network not found", PDK_ERR_NOT_FOUND},
        {"metadata not found", PDK_ERR_NOT_FOUND},
        {"already exists", PDK_ERR_ALREADY_EXISTS},
        {"exists already", PDK_ERR_ALREADY_EXISTS},
        {"Requested operation is not valid", PDK_ERR_CONFLICT},
        {"domain is already running", PDK_ERR_CONFLICT},
        {"Domain is already active", PDK_ERR_CONFLICT},
        {"domain is not running", PDK_ERR_CONFLICT},
        {"not supported by the connection driver", PDK_ERR_UNSUPPORTED},
        {"unsupported flags", PDK_ERR_UNSUPPORTED},
        {"unsupported configuration", PDK_ERR_UNSUPPORTED},
        {"argument unsupported", PDK_ERR_UNSUPPORTED},
        {"Operation not supported", PDK_ERR_UNSUPPORTED},
        {"invalid argument", PDK_ERR_INVALID_ARGUMENT},
        {"XML error", PDK_ERR_INVALID_ARGUMENT},
        {"XML document failed to validate", PDK_ERR_INVALID_ARGUMENT},
    };
    for (const Rule& r : kRules) {
        if (containsNoCase(line, r.text)) return r.status;
    }
    return PDK_ERR_INTERNAL;
}

VirshFailure classifyVirshError(std::string_view stderrText) {
    std::vector<std::string> errors;
    for (const std::string& line : nonEmptyLines(stderrText)) {
        constexpr std::string_view kPrefix = "error: ";
        if (line.rfind(kPrefix, 0) == 0) errors.push_back(line.substr(kPrefix.size()));
    }
    VirshFailure f;
    if (errors.empty()) {
        // Not virsh's own words (a crash, ssh, a fake virsh): the text as it is.
        f.message = std::string(trim(stderrText).substr(0, 2048));
        f.status = statusForErrorText(f.message);
        return f;
    }
    for (auto it = errors.rbegin(); it != errors.rend() && f.status == PDK_ERR_INTERNAL; ++it)
        f.status = statusForErrorText(*it);
    for (const std::string& e : errors) f.message += (f.message.empty() ? "" : "; ") + e;
    return f;
}

}  // namespace paddock::virsh
