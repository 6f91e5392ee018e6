#include "call_support.hpp"

#include <cstring>

namespace paddock::conformance {

std::string statusName(pdk_status status) {
    switch (status) {
        case PDK_OK: return "PDK_OK";
        case PDK_ERR_INVALID_ARGUMENT: return "PDK_ERR_INVALID_ARGUMENT";
        case PDK_ERR_NOT_FOUND: return "PDK_ERR_NOT_FOUND";
        case PDK_ERR_ALREADY_EXISTS: return "PDK_ERR_ALREADY_EXISTS";
        case PDK_ERR_CONFLICT: return "PDK_ERR_CONFLICT";
        case PDK_ERR_UNSUPPORTED: return "PDK_ERR_UNSUPPORTED";
        case PDK_ERR_UNAVAILABLE: return "PDK_ERR_UNAVAILABLE";
        case PDK_ERR_BAD_FLAGS: return "PDK_ERR_BAD_FLAGS";
        case PDK_ERR_BUFFER_TOO_SMALL: return "PDK_ERR_BUFFER_TOO_SMALL";
        case PDK_ERR_TIMEOUT: return "PDK_ERR_TIMEOUT";
        case PDK_ERR_INTERNAL: return "PDK_ERR_INTERNAL";
        case PDK_ERR_FORBIDDEN: return "PDK_ERR_FORBIDDEN";
        case PDK_ERR_CANCELLED: return "PDK_ERR_CANCELLED";
    }
    return "status " + std::to_string(static_cast<int>(status));
}

pdk_error* ErrorRecord::reset() {
    std::memset(&err_, 0, sizeof err_);
    err_.struct_size = sizeof err_;
    err_.status = PDK_OK;  // a failing callee must overwrite it
    return &err_;
}

bool ErrorRecord::filled(pdk_status status) const { return err_.status == status && err_.message[0] != '\0'; }

std::string ErrorRecord::message() const {
    return std::string(err_.message, strnlen(err_.message, sizeof err_.message));
}

std::string ErrorRecord::describe(pdk_status status) const {
    const std::string text = message();
    return statusName(status) + (text.empty() ? "" : ": " + text);
}

bool expectStatus(Report& report, const std::string& check, pdk_status got, const ErrorRecord& err,
                  std::initializer_list<pdk_status> allowed) {
    bool ok = false;
    std::string wanted;
    for (const pdk_status s : allowed) {
        ok = ok || s == got;
        wanted += (wanted.empty() ? "" : " or ") + statusName(s);
    }
    if (!ok) {
        report.fail(check, "returned " + err.describe(got) + ", expected " + wanted);
        return false;
    }
    if (got != PDK_OK && !err.filled(got)) {
        report.fail(check, "returned " + statusName(got) + " but did not fill pdk_error (status " +
                               statusName(err.status()) + ", message '" + err.message() + "')");
        return false;
    }
    report.pass(check);
    return true;
}

}  // namespace paddock::conformance
