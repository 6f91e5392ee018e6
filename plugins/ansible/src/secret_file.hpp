// The secret inventory (the become password, ansible_inputs.hpp) as an anonymous in-memory
// file: a memfd.
//
// Why a memfd: it is never in any file system (nothing to leave behind after a crash, nothing
// another user could find in /tmp), the bytes are not on a command line or in an environment
// (both readable by every user in /proc/PID/cmdline and /proc/PID/environ), and they are gone
// the moment the last descriptor closes. The child reaches it as /dev/fd/N; /proc/PID/fd of our
// process and of ansible's is readable only by our own user (and root). It must be a memfd and
// not a pipe: ansible's DataLoader only reads a path for which os.path.isfile() holds, and a
// memfd is S_ISREG where a pipe is not.
//
// Why an inventory source (`-i /dev/fd/N`) and not `--extra-vars @/dev/fd/N`: ansible-core 2.14
// passes an --extra-vars path through os.path.realpath() while parsing its command line, which
// turns /dev/fd/N into the link's text, "/memfd:... (deleted)", a path that does not exist
// (tried against /usr/bin/ansible-playbook here: "Could not find or access '/memfd:vars
// (deleted)'"). An inventory path is only normalised, not resolved, so /dev/fd/N works there.
// The password does not need extra-vars precedence; the other variables do and go in a file.
//
// Not shared between threads.
#pragma once

#include <string_view>

namespace paddock::ansible {

class SecretFile {
public:
    // A memfd holding `content`, positioned at its start, mode 0400 (never executable, so no
    // inventory plugin tries to run it), close-on-exec in this process (the child gets its own
    // descriptor: ProcessSpec::passFds). Throws pdk::Error(PDK_ERR_INTERNAL).
    explicit SecretFile(std::string_view content);
    // Truncates the file to 0 bytes (the pages are freed at once, even while a leftover
    // descriptor elsewhere still points to it), then closes it.
    ~SecretFile();
    SecretFile(const SecretFile&) = delete;
    SecretFile& operator=(const SecretFile&) = delete;

    int fd() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

}  // namespace paddock::ansible
