// The check groups. Each reports its own lines under "<group>/".
#pragma once

#include "plugin_library.hpp"
#include "report.hpp"
#include "session.hpp"

#include <string>
#include <vector>

namespace paddock::conformance {

// abi: what can be checked before init (descriptor, chain, vtable). `selected` may be NULL.
void checkDescriptors(Report& report, const std::vector<DescriptorView>& chain, const std::string& chainProblem,
                      const DescriptorView* selected);
// Whether the kit can go on with `d` at all (major, kind, vtable, open, close); else why not.
bool usableBackend(const DescriptorView& d, std::string& why);
// abi: init (the entry descriptor's) with a second host and bad flags, a nested init/deinit,
// then open/close of `backend` still works.
void checkInitRules(Report& report, const DescriptorView& entry, const DescriptorView& backend, const std::string& uri);

// The capability table: every vtable entry present or NULL, and the descriptor's capabilities.
void printCapabilityTable(Report& report, const DescriptorView& d);

void runArgsGroup(Session& s);
void runLifecycleGroup(Session& s);
void runStructsGroup(Session& s);
void runOwnershipGroup(Session& s);
void runSinksGroup(Session& s);
void runThreadsGroup(Session& s);
void runEventsGroup(Session& s);

}  // namespace paddock::conformance
