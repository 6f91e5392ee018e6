// A second hypervisor host on this machine, reached the way Paddock reaches a remote one: a local
// user (default "paddock-remote", made with `useradd -m` when missing) whose own libvirt session
// daemon (qemu:///session) is reached through libvirt's SSH transport to a private sshd on a free
// 127.0.0.1 port. That sshd lets in only that user, only with a key pair generated for the test
// (0600, in the test's temp dir); knownHosts() pins its host key as "[127.0.0.1]:<port>".
// Nothing on the host needs systemd or logind: libvirt starts the user's daemon (libvirtd
// --timeout=120, its sockets under ~/.cache/libvirt since no XDG_RUNTIME_DIR is set) when a client
// connects, through virt-ssh-helper on the SSH side. The host has two dir storage pools in the
// user's home: overlayPool() (~/pool) for overlays and basePool() (~/base) for base images, which
// provide() puts there. A remote host's base image must be a storage volume there: Paddock reads
// its size through the storage API, having no file access to the host.
// The daemon's configuration directory is configHome() (XDG_CONFIG_HOME, set by sshd's SetEnv and
// for virsh()), not ~/.config: a session daemon puts each guest's agent socket under it
// (libvirt/qemu/channel/target/domain-<id>-<name, 20 chars>/org.qemu.guest_agent.0), and with
// /home/paddock-remote/.config that passes the 107 bytes of a UNIX socket path once domain ids
// reach two digits: the start fails ("UNIX socket path ... too long").
// The user, its account, pools and images are kept for the next test (idempotent setup); on
// destruction sshd stops and every domain (with its managed save, snapshots and storage) and
// overlay-pool volume whose name starts with `prefix` is removed. Declare it before the
// PaddockdFixture using it, so that paddockd has stopped by then. Main thread only.
#pragma once

#include "sshd_fixture.hpp"
#include "test_support.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace paddock::test {

class RemoteHostFixture {
public:
    static constexpr const char* kDefaultUser = "paddock-remote";

    explicit RemoteHostFixture(std::string prefix, std::string user = kDefaultUser);
    ~RemoteHostFixture();
    RemoteHostFixture(const RemoteHostFixture&) = delete;
    RemoteHostFixture& operator=(const RemoteHostFixture&) = delete;

    const std::string& user() const noexcept { return user_; }
    const std::string& home() const noexcept { return home_; }
    uint16_t sshPort() const noexcept { return sshd_.port(); }
    // The private key libvirt's client logs in with (0600) and a known_hosts file holding only
    // this sshd's host key.
    std::string sshKey() const { return sshd_.clientKey(); }
    std::string knownHosts() const { return dir_.file("known_hosts"); }

    // The user's session daemon through sshd: "qemu+<transport>://<user>@127.0.0.1:<port>/session"
    // (`transport` libssh2, libssh or ssh), without parameters: a site adds them from its
    // ssh_key and known_hosts.
    std::string uri(const std::string& transport = "libssh2") const;
    // uri() with keyfile=, known_hosts= and sshauth=privkey, for virsh -c (libssh2 and libssh).
    std::string uriWithKeys(const std::string& transport = "libssh2") const;

    // The session daemon's XDG_CONFIG_HOME: domain and pool definitions, agent sockets.
    static std::string configHome() { return "/var/lib/pdkr"; }
    std::string overlayPool() const { return "paddock-remote"; }
    std::string basePool() const { return "paddock-remote-base"; }
    // Puts the file at `path` on the host as a volume of basePool() (a hard link, or a copy the
    // user owns when the link would not be readable by it): its path there.
    std::string provide(const std::string& path);

    // `virsh -q <args>` against the session daemon, run as the user on this machine (not through
    // sshd, so it works while sshd is down): what it printed; its status is ignored.
    std::string virsh(const std::string& args) const;
    // The session daemon's domains (any state) / overlay-pool volumes whose names start with the
    // fixture's prefix.
    std::vector<std::string> domains() const;
    std::vector<std::string> volumes() const;

    // The host goes away for SSH clients: the listener ends and every session is killed, so
    // connected clients see their connections close. The user's daemon and domains live on.
    void stopSshd() { sshd_.disconnect(); }
    // sshd back on the same port with the same host key.
    void startSshd() { sshd_.start(); }
    // SIGKILLs the user's session daemon (no-op when none runs). Its domains keep running; the
    // next client connection starts a new daemon, which takes them back.
    void killDaemon();
    // The session daemon's pid, or -1 when none runs.
    pid_t daemonPid() const;

private:
    void ensureUser();
    void ensurePool(const std::string& name, const std::string& directory);
    // `command` run by /bin/sh as the user, with a clean environment (HOME, PATH, LC_ALL=C).
    std::string asUser(const std::string& command) const;
    void sweep();

    std::string prefix_;
    std::string user_;
    std::string home_;
    TempDir dir_;
    SshdFixture sshd_;
};

}  // namespace paddock::test
