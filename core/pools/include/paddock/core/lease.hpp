// A lease: a pool VM handed to one owner until it expires or is released. A plain value; its
// facts live in its VM's libvirt metadata (pool_manager.hpp).
#pragma once

#include "paddock/core/iso_time.hpp"

#include <cstdint>
#include <string>

namespace paddock {

struct Lease {
    std::string id;
    std::string pool;
    std::string site;
    std::string vm;
    std::string owner;
    SystemTime created_at{};
    // false: the lease lasts until it is released or its VM deleted (a compatibility allocation
    // without ttl_s, as the old tool's were); expires_at is then meaningless.
    bool expires = true;
    SystemTime expires_at{};
    std::string idempotency_key;  // empty when the allocation carried none
    std::string ssh_host;         // empty when the site has no SSH target for the VM
    uint16_t ssh_port = 0;
    std::string ssh_user;
    // false while the lease's site is down: the VM is still the owner's and comes back with the
    // site (a view of the moment; not stored).
    bool available = true;
};

}  // namespace paddock
