#include "paddock/core/ssh_identity.hpp"

#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace paddock {

namespace {

namespace fs = boost::filesystem;

// Runs a program without a shell: arguments are never re-parsed.
Status runProgram(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return makeError(ErrorCode::Unavailable, "cannot run " + argv[0] + ": " + std::strerror(rc));
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return makeError(ErrorCode::Internal, argv[0] + " failed with status " + std::to_string(WEXITSTATUS(status)));
    return {};
}

std::string firstLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

std::string base64Encode(const std::string& data) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        const uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (i + 1 == data.size()) {
        const uint32_t n = uint8_t(data[i]) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == data.size()) {
        const uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

Result<SshIdentity> ensureSshIdentity(const std::string& stateDir) {
    const fs::path dir = fs::path(stateDir) / "ssh";
    SshIdentity id{(dir / "id_ed25519").string(), (dir / "id_ed25519.pub").string(), {}};
    boost::system::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return makeError(ErrorCode::Unavailable, "cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);

    if (!fs::exists(id.private_key_path) || !fs::exists(id.public_key_path)) {
        // Generate beside the final name and rename, so a crash never leaves half a key pair.
        const fs::path tmp = dir / fs::unique_path("keygen-%%%%%%%%");
        if (auto made =
                runProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "paddock", "-f", tmp.string()});
            !made) {
            fs::remove(tmp, ec);
            fs::remove(tmp.string() + ".pub", ec);
            return made.error();
        }
        fs::rename(tmp.string() + ".pub", id.public_key_path, ec);
        if (!ec) fs::rename(tmp, id.private_key_path, ec);
        if (ec)
            return makeError(ErrorCode::Unavailable,
                             "cannot store the SSH key in " + dir.string() + ": " + ec.message());
    }
    ::chmod(id.private_key_path.c_str(), 0600);
    id.public_key = firstLine(id.public_key_path);
    if (id.public_key.rfind("ssh-", 0) != 0)
        return makeError(ErrorCode::Internal, id.public_key_path + " does not hold an OpenSSH public key");
    return id;
}

}  // namespace paddock
