#include "paddock/server/application.hpp"

#include <Poco/Exception.h>

#include <malloc.h>

#include <iostream>

namespace {

// Answers are built in buffers of tens of kilobytes to megabytes (a listing of 100 VMs is
// ~45 kB) on 32 worker threads. With glibc's defaults each such buffer freed at the top of a
// worker's arena shrinks the arena (madvise), and the next answer faults the pages back in:
// measured, that was a third of the CPU of serving a kept listing. Keeping up to 8 MiB free per
// arena, and serving buffers up to 4 MiB from the arenas rather than fresh mappings, ends that
// for a bounded amount of memory (at most 8 MiB per arena; glibc makes ≤ 8 per core).
void tuneAllocator() {
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
}

}  // namespace

int main(int argc, char** argv) {
    tuneAllocator();
    try {
        paddock::server::Application app;
        return app.run(argc, argv);
    } catch (const Poco::Exception& e) {
        std::cerr << "paddockd: " << e.displayText() << std::endl;
        return paddock::server::Application::kExitConfigError;
    }
}
