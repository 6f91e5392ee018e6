// plugins/virsh virsh_output.cpp: what virsh prints (stdout and stderr of a process the backend
// runs, on a host it may not trust), and the checks names pass before any virsh runs.
//
// Input: any bytes, read by every parser and every check.
// Invariants: no parser throws; the lines of nonEmptyLines hold no '\n' and are never empty;
// a listed domain has a name and a UUID without blanks; states are known enum values; a check
// either passes a value that is non-empty, bounded, free of control characters and of a leading
// '-', or throws PDK_ERR_INVALID_ARGUMENT; a found IPv4 address is a dotted quad outside
// 127.0.0.0/8; an error's status is a pdk_status and its message comes from the text; numbers
// read back what they were printed as.
#include "fuzz_support.hpp"

#include "virsh_output.hpp"

#include <paddock/cpp/error.hpp>

#include <arpa/inet.h>

#include <string>

namespace {

using namespace paddock::virsh;

bool knownState(pdk_domain_state s) { return s >= PDK_DOMAIN_NOSTATE && s <= PDK_DOMAIN_PMSUSPENDED; }

bool knownStatus(pdk_status s) { return s >= PDK_OK && s <= PDK_ERR_CANCELLED; }

bool hasControl(std::string_view v) {
    for (const char c : v)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    return false;
}

template <class Check>
void checkOrRefuse(Check check, std::string_view value, size_t maxBytes) {
    try {
        check(value);
    } catch (const pdk::Error& e) {
        FUZZ_CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
        return;
    }
    FUZZ_CHECK(!value.empty() && value.size() <= maxBytes);
    FUZZ_CHECK(!hasControl(value));
    FUZZ_CHECK(value.front() != '-');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text = paddock::fuzz::asText(data, size);

    for (const std::string& line : nonEmptyLines(text)) {
        FUZZ_CHECK(!line.empty());
        FUZZ_CHECK(line.find('\n') == std::string::npos);
    }
    for (const ListedDomain& d : parseUuidIdNameList(text)) {
        FUZZ_CHECK(!d.name.empty());
        FUZZ_CHECK(!d.uuid.empty() && d.uuid.find(' ') == std::string::npos);
        FUZZ_CHECK(d.id >= -1);
    }
    for (const DomainStats& d : parseDomstats(text)) (void)d.values.size();
    FUZZ_CHECK(knownState(parseStateWord(text)));
    FUZZ_CHECK(knownState(parseDomstate(text).state));
    const DomInfo info = parseDominfo(text);
    FUZZ_CHECK(knownState(info.state));
    FUZZ_CHECK(info.id >= -1);
    (void)parseSecondsToNs(text);
    (void)parseMemoryKib(text);
    (void)parseDottedVersion(text);
    (void)parseVersion(text);
    if (const auto number = parseUnsigned(text)) FUZZ_CHECK(parseUnsigned(std::to_string(*number)) == number);
    if (const auto address = parseFirstIpv4(text)) {
        in_addr parsed{};
        FUZZ_CHECK(::inet_pton(AF_INET, address->c_str(), &parsed) == 1);
        FUZZ_CHECK(address->rfind("127.", 0) != 0);
    }
    const VirshFailure failure = classifyVirshError(text);
    FUZZ_CHECK(knownStatus(failure.status));
    FUZZ_CHECK(failure.status != PDK_OK);
    FUZZ_CHECK(failure.message.size() <= text.size());
    FUZZ_CHECK(knownStatus(statusForErrorText(text)));

    checkOrRefuse([](std::string_view v) { checkArg(v, "name"); }, text, kMaxNameBytes);
    checkOrRefuse([](std::string_view v) { checkPath(v, "path"); }, text, kMaxPathBytes);
    checkOrRefuse([](std::string_view v) { checkVolumeName(v, "volume"); }, text, kMaxNameBytes);
    const bool digitsOnly = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
    if (digitsOnly) FUZZ_CHECK(nameVirshMayMisread(text));
    return 0;
}
