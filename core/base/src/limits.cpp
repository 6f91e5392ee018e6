#include "paddock/core/limits.hpp"

#include <string>

namespace paddock::limits {

Status checkVmSize(uint64_t vcpus, uint64_t memoryMb) {
    if (vcpus < kMinVcpus || vcpus > kMaxVcpus)
        return makeError(ErrorCode::InvalidArgument,
                         "vcpus must be between " + std::to_string(kMinVcpus) + " and " + std::to_string(kMaxVcpus));
    if (memoryMb < kMinMemoryMb || memoryMb > kMaxMemoryMb)
        return makeError(ErrorCode::InvalidArgument, "memory_mb must be between " + std::to_string(kMinMemoryMb) +
                                                         " and " + std::to_string(kMaxMemoryMb));
    return {};
}

}  // namespace paddock::limits
