// The private directory of one ansible-playbook run: HOME, working directory, inventory,
// known_hosts, an empty ansible.cfg and ansible's local temp dir all live in it, so a run
// reads no user's configuration and leaves nothing behind.
//
// Created with mkdtemp (0700) under $TMPDIR, or /tmp when TMPDIR is unset, not absolute or
// holds a character other than [A-Za-z0-9/._+-] (the path reaches ssh's option parser, which
// splits on spaces and expands '%'). Removed recursively by the destructor, whatever the run
// did. Not shared between threads.
#pragma once

#include <string>
#include <string_view>

namespace paddock::ansible {

class RunDirectory {
public:
    // Throws pdk::Error(PDK_ERR_INTERNAL) when the directory cannot be made.
    RunDirectory();
    ~RunDirectory();
    RunDirectory(const RunDirectory&) = delete;
    RunDirectory& operator=(const RunDirectory&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

    // Creates file `name` (it must not exist; symlinks are not followed), mode 0600, holding
    // exactly `content`. Throws pdk::Error(PDK_ERR_INTERNAL).
    void writeFile(std::string_view name, std::string_view content) const;
    // Creates subdirectory `name`, mode 0700. Throws pdk::Error(PDK_ERR_INTERNAL).
    void makeDirectory(std::string_view name) const;

    // The base directory runs are made in, as described above.
    static std::string baseDirectory();

private:
    std::string path_;
};

}  // namespace paddock::ansible
