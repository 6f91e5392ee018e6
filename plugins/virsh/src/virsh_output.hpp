// Pure functions over what virsh prints (run with LC_ALL=C and --quiet) and over what the
// backend puts on its command line: the parsers, the one mapping from virsh's "error: ..." lines
// to pdk_status, and the checks every name passes before any virsh is started.
// No process is started here, so every function is tested directly against captured output
// (tests/plugins/virsh/data).
//
// Ownership: inputs are borrowed for the call; results are returned by value.
// Threading: every function is reentrant.
// Errors: the parsers never throw on odd lines (they skip what they do not understand; a number
// they cannot read is 0); the check* functions throw pdk::Error(PDK_ERR_INVALID_ARGUMENT).
#pragma once

#include <paddock/pdk_backend.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock::virsh {

// Longest name (domain, snapshot, pool, volume) and path the backend hands to virsh.
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxPathBytes = 4096;

// Refuses, before anything runs, a value virsh could read as something else than the value:
// empty, over `maxBytes`, a NUL or another control character (C0 or DEL), or a leading '-'
// (an option to virsh's parser). `what` names it in the message.
void checkArg(std::string_view value, std::string_view what, size_t maxBytes = kMaxNameBytes);
// checkArg plus: absolute (starts with '/').
void checkPath(std::string_view value, std::string_view what);
// checkArg plus: a plain file name (no '/', not "." or "..").
void checkVolumeName(std::string_view value, std::string_view what);

// True when virsh's --domain lookup would not read `name` as a name first: it tries a
// number as a domain id (strtol syntax, leading blanks and a sign included) and 32 hex digits
// (dashes and surrounding blanks ignored) as a UUID before the name. The backend resolves
// such names to their UUID from the domain list itself.
bool nameVirshMayMisread(std::string_view name);

// The lines of `text` without their "\n" (and a "\r" before it); empty lines are dropped.
std::vector<std::string> nonEmptyLines(std::string_view text);

// `list --all --uuid --id --name`: "<uuid> <id or -> <name>" per line (the name last, so it may
// hold spaces).
struct ListedDomain {
    std::string uuid;
    int32_t id = -1;
    std::string name;
};
std::vector<ListedDomain> parseUuidIdNameList(std::string_view text);

// `domstats`: "Domain: '<name>'" then indented "key=value" lines, per domain.
struct DomainStats {
    std::string name;
    std::map<std::string, std::string> values;
};
std::vector<DomainStats> parseDomstats(std::string_view text);

// A state as virsh words it ("running", "shut off", "in shutdown", "idle", ...); unknown
// words read as PDK_DOMAIN_NOSTATE.
pdk_domain_state parseStateWord(std::string_view word);

// `domstate --reason`: "<state> (<reason>)".
struct DomainState {
    pdk_domain_state state = PDK_DOMAIN_NOSTATE;
    std::string reason;
};
DomainState parseDomstate(std::string_view text);

// True for the states in which a domain has a running hypervisor process.
bool isActiveState(pdk_domain_state state);

// `dominfo`: "Key:   value" lines.
struct DomInfo {
    std::string name;
    std::string uuid;
    int32_t id = -1;
    pdk_domain_state state = PDK_DOMAIN_NOSTATE;
    uint32_t vcpus = 0;
    uint64_t cpuTimeNs = 0;
    uint64_t maxMemoryKib = 0;
    uint64_t memoryKib = 0;
    bool managedSave = false;
};
DomInfo parseDominfo(std::string_view text);

// An unsigned decimal integer with nothing around it but blanks; std::nullopt otherwise.
std::optional<uint64_t> parseUnsigned(std::string_view text);
// "12.5s" (or "12,5s": a decimal comma is read too) as nanoseconds; 0 when unreadable.
uint64_t parseSecondsToNs(std::string_view text);
// "65536 KiB" (KiB, MiB, GiB, TiB, or bytes "B"/no unit) as KiB; 0 when unreadable.
uint64_t parseMemoryKib(std::string_view text);

// "a.b.c" as a*1000000 + b*1000 + c (libvirt's encoding); 0 when unreadable.
uint64_t parseDottedVersion(std::string_view text);

// `version`: "Using library: libvirt X", "Using API: <DRIVER> X", "Running hypervisor: <NAME> X".
struct VersionInfo {
    uint64_t libraryVersion = 0;
    std::string driver;  // "QEMU", "TEST", ...
    uint64_t hypervisorVersion = 0;
};
VersionInfo parseVersion(std::string_view text);

// `domifaddr`: the first IPv4 address (without its prefix length) outside 127.0.0.0/8.
std::optional<std::string> parseFirstIpv4(std::string_view text);

// What virsh's stderr says went wrong: the mapped status and the "error:" lines joined with
// "; " (the "error: " prefix removed). libvirt's own reason, the last line, is checked first;
// a line no rule knows leaves PDK_ERR_INTERNAL.
struct VirshFailure {
    pdk_status status = PDK_ERR_INTERNAL;
    std::string message;
};
VirshFailure classifyVirshError(std::string_view stderrText);
// The status one error text maps to (see the table in plugins/virsh/README.md).
pdk_status statusForErrorText(std::string_view line);

}  // namespace paddock::virsh
