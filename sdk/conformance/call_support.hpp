// What every check needs to call a backend and judge the answer: a pdk_error that tells whether
// the plugin filled it, the status names, and the expectation helper.
#pragma once

#include "report.hpp"

#include <paddock/pdk_backend.h>

#include <initializer_list>
#include <string>

namespace paddock::conformance {

// A flag bit no version of the ABI defines for any call.
inline constexpr uint32_t kUnknownFlag = 1u << 31;

std::string statusName(pdk_status status);

// A caller's pdk_error, reset before each call so a check can tell whether the callee wrote it.
class ErrorRecord {
public:
    ErrorRecord() { reset(); }
    pdk_error* reset();
    pdk_error* get() { return &err_; }
    bool filled(pdk_status status) const;  // status written and a non-empty message
    pdk_status status() const { return err_.status; }
    std::string message() const;
    std::string describe(pdk_status status) const;  // "PDK_ERR_X: message"

private:
    pdk_error err_{};
};

// Judges a call: its status is one of `allowed`, and a failure filled the error record. Reports
// PASS or FAIL under `check` and returns whether it passed.
bool expectStatus(Report& report, const std::string& check, pdk_status got, const ErrorRecord& err,
                  std::initializer_list<pdk_status> allowed);

}  // namespace paddock::conformance
