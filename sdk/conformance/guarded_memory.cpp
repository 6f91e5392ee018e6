#include "guarded_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <csetjmp>
#include <csignal>
#include <cstring>

namespace paddock::conformance {

namespace {

sigjmp_buf gRecover;
std::atomic<bool> gArmed{false};

void onFault(int sig, siginfo_t*, void*) {
    if (gArmed.exchange(false)) siglongjmp(gRecover, 1);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

}  // namespace

GuardedPage::GuardedPage() : page_(static_cast<size_t>(::sysconf(_SC_PAGESIZE))) {
    void* p = ::mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<char*>(p);
    ::mprotect(base_ + page_, page_, PROT_NONE);
}

GuardedPage::~GuardedPage() {
    if (base_ != nullptr) ::munmap(base_, 2 * page_);
}

void* GuardedPage::place(size_t size) {
    if (base_ == nullptr || size > page_) return nullptr;
    char* at = base_ + page_ - size;
    std::memset(at, 0, size);
    return at;
}

bool guarded(const std::function<void()>& call) {
    struct sigaction action {};
    struct sigaction oldSegv {};
    struct sigaction oldBus {};
    action.sa_sigaction = &onFault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGSEGV, &action, &oldSegv);
    ::sigaction(SIGBUS, &action, &oldBus);
    bool ok = true;
    if (sigsetjmp(gRecover, 1) == 0) {
        gArmed = true;
        call();
        gArmed = false;
    } else {
        ok = false;
    }
    ::sigaction(SIGSEGV, &oldSegv, nullptr);
    ::sigaction(SIGBUS, &oldBus, nullptr);
    return ok;
}

GuardedOutput::GuardedOutput(uint32_t structSize, size_t capacity)
    : size_(structSize), capacity_(capacity < sizeof bytes_ ? capacity : sizeof bytes_) {
    std::memset(bytes_, 0, sizeof bytes_);
    std::memset(bytes_ + size_, kGuardByte, capacity_ - size_);
    std::memcpy(bytes_, &size_, sizeof size_);
}

bool GuardedOutput::guardIntact() const {
    for (size_t i = size_; i < capacity_; ++i) {
        if (bytes_[i] != kGuardByte) return false;
    }
    return true;
}

uint32_t GuardedOutput::structSize() const {
    uint32_t size = 0;
    std::memcpy(&size, bytes_, sizeof size);
    return size;
}

}  // namespace paddock::conformance
