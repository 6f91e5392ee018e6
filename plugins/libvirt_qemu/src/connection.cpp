// The libvirt-qemu connection: open, "auto" domain type, QEMU domain XML and the guest agent.
#include "connection.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <cstdlib>


namespace paddock::lvq {

std::unique_ptr<Connection> Connection::open(const char* uri, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    return std::unique_ptr<Connection>(new Connection(openLibvirt(uri)));
}

// When resolveAutoDomainType throws, ~LibvirtConnection (a complete base) closes the connection.
Connection::Connection(virConnectPtr conn) : LibvirtConnection(conn) { autoDomainType_ = resolveAutoDomainType(); }

std::string Connection::resolveAutoDomainType() {
    if (isTestDriver_) return "qemu";
    const std::string caps = takeString(virConnectGetCapabilities(conn_));
    if (caps.empty()) throwLastError("cannot read host capabilities");
    return autoQemuDomainType(caps, isLocal_);
}

DomainXmlOptions Connection::xmlOptionsFor(const pdk_domain_spec& spec) const {
    const std::string requested = spec.domain_type != nullptr ? spec.domain_type : "auto";
    if (requested != "auto" && requested != "kvm" && requested != "qemu")
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain_type must be auto, kvm or qemu, not '" + requested + "'");
    DomainXmlOptions options;
    if (isTestDriver_) {
        // The test driver knows only <domain type='test'> on i686 and has no machine types.
        options.domainType = "test";
        options.arch.clear();
        options.machine.clear();
        return options;
    }
    options.domainType = requested == "auto" ? autoDomainType_ : requested;
    return options;
}

void Connection::defineDomain(const pdk_domain_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string xml = buildDomainXml(spec, xmlOptionsFor(spec));
    defineXml(spec.name, xml);
}

void Connection::guestPing(const char* name, uint32_t timeoutMs, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    // libvirt waits in whole seconds; 0 would be VIR_DOMAIN_QEMU_AGENT_COMMAND_NOWAIT.
    const int seconds = static_cast<int>(std::max<uint32_t>(1, timeoutMs / 1000 + (timeoutMs % 1000 != 0 ? 1 : 0)));
    char* reply = virDomainQemuAgentCommand(dom.get(), R"({"execute":"guest-ping"})", seconds, 0);
    if (reply != nullptr) {
        std::free(reply);
        return;
    }
    // Drivers without an agent (test, LXC) answer VIR_ERR_NO_SUPPORT; a domain without the
    // channel VIR_ERR_ARGUMENT_UNSUPPORTED; one not running (or paused) VIR_ERR_OPERATION_INVALID.
    // Waiting too long for the agent job (another agent command hangs) is the agent's silence too.
    const int code = lastErrorCode();
    pdk::Error error = takeLastError(std::string("the guest agent of domain '") + name + "'");
    if (code == VIR_ERR_OPERATION_TIMEOUT) throw pdk::Error(PDK_ERR_UNAVAILABLE, error.what());
    throw error;
}

}  // namespace paddock::lvq
