// Running helper programs (qemu-img) for the backend: never through a shell, so file names are
// passed as they are.
//
// Threading: reentrant. The child inherits no descriptor of the process: only /dev/null and
// the pipe that carries its stderr back.
// Errors: pdk::Error, PDK_ERR_UNAVAILABLE when the program cannot be started, PDK_ERR_INTERNAL
// "<what>: <program> exited with status N: <its stderr>" when it fails.
#pragma once

#include <string>
#include <vector>

namespace paddock::lvq {

// Runs argv[0] (looked up in PATH) with stdin and stdout on /dev/null and waits for it; its
// stderr (the first 4 KiB) goes into the error when it fails.
void runProgram(const std::vector<std::string>& argv, const std::string& what);

}  // namespace paddock::lvq
