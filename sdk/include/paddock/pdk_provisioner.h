/*
 * Paddock plugin ABI: provisioners (PDK_PLUGIN_KIND_PROVISIONER, ABI 1.6).
 *
 * A provisioner configures one running VM over SSH after Paddock made it: installs packages,
 * sets up a firewall, copies lab files (org.paddock.ansible runs ansible-playbook). The host
 * resolves everything the run needs (where the VM's sshd answers, which user and key log in,
 * the host key Paddock pinned for it) and hands it over in one pdk_provision_request; the
 * provisioner runs the recipe, streams its output line by line and returns how it went.
 *
 * Every function:
 *  - returns pdk_status and, when not PDK_OK, fills the caller's `err` (which may be NULL);
 *  - rejects unknown bits in `flags` with PDK_ERR_BAD_FLAGS before doing anything;
 *  - copies every input it needs to keep: input pointers are borrowed for the call only.
 *
 * The become secret (a sudo password) is the one input that must never leak. It arrives as
 * bytes (`become_secret`, `become_secret_len`), not a NUL-terminated string, so it cannot be
 * printed by accident with the other strings. The provisioner:
 *  - never writes it to a command line, an environment variable, a log line, the output sink or
 *    a file that outlives the call, and never keeps a copy after `run` returns (wipe what you
 *    copied);
 *  - replaces it by "********" in every output line that would contain it, before the sink sees
 *    the line (the host redacts again: this is defence in depth, not the only line).
 * The host owns the bytes and overwrites them after `run` returns.
 *
 * Threading: `run` may be called from any host thread, concurrently with itself for different
 * VMs (each call is independent: no state is shared between runs that the host can see). It
 * blocks until the run ended: finished, failed, timed out or cancelled. `output` and
 * `is_cancelled` are called only during `run`, on the thread that called `run`.
 */
#ifndef PADDOCK_PDK_PROVISIONER_H
#define PADDOCK_PDK_PROVISIONER_H

#include "pdk_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output streams of a run, for pdk_provision_output_fn. */
#define PDK_PROVISION_STDOUT 1
#define PDK_PROVISION_STDERR 2

/*
 * Receives one output line of the run (1.6), as soon as it is complete: `line` holds `len` bytes
 * without the line break (not NUL-terminated; may be invalid UTF-8), borrowed for the call. A
 * line longer than the provisioner's limit (at least 4096 bytes) arrives in pieces. `stream` is
 * PDK_PROVISION_STDOUT or PDK_PROVISION_STDERR. Threading: on the `run` caller's thread, during
 * `run` only. It never calls back into the provisioner.
 */
typedef void (*pdk_provision_output_fn)(void* user, int stream, const char* line, size_t len);

/* Polled by the provisioner during `run` (at least every 250 ms); nonzero: stop the run now
 * (kill what it started) and return PDK_ERR_CANCELLED. Threading: as the output sink. */
typedef int (*pdk_provision_cancel_fn)(void* user);

/*
 * One run. Built and owned by the host; borrowed for the duration of `run`. Strings are
 * NUL-terminated UTF-8; an optional one may be NULL or empty, meaning "none".
 */
typedef struct pdk_provision_request {
    uint32_t struct_size;
    const char* site; /* Paddock site of the VM (for messages). Mandatory. */
    const char* vm;   /* VM name (for messages and the recipe's `vm_name`). Mandatory. */
    /* Where and how to log in. host/port reach the VM's sshd (a user-mode forward on loopback,
     * or the VM's own address); `user` logs in with the private key at `private_key_path`
     * (OpenSSH format, 0600, readable by the host's user). Mandatory. */
    const char* host;
    uint16_t port;
    const char* user;
    const char* private_key_path;
    /* The VM's host key as one OpenSSH known_hosts line ("[127.0.0.1]:22001 ssh-ed25519 AAAA..."),
     * pinned by Paddock. The provisioner connects only to a host presenting exactly this key
     * (OpenSSH StrictHostKeyChecking=yes against it, nothing else trusted). Mandatory. */
    const char* known_hosts_line;
    /* What to run: for org.paddock.ansible, the path of a playbook. Mandatory. */
    const char* recipe;
    /* Variables for the recipe: one JSON object (its members become the recipe's variables;
     * values may be any JSON). NULL or empty: none. */
    const char* variables_json;
    /* Provisioner settings from Paddock's configuration (provisioning.settings), e.g.
     * {"command", "/usr/bin/ansible-playbook"}. Keys the provisioner does not know are refused
     * with PDK_ERR_INVALID_ARGUMENT naming them. */
    const pdk_kv* settings;
    size_t setting_count;
    /* The privilege-escalation (become/sudo) password, `become_secret_len` bytes; NULL/0: none
     * (the user escalates without one). Borrowed for the call; see the rules at the top. */
    const unsigned char* become_secret;
    size_t become_secret_len;
    /* The run is stopped (with everything it started) after this long: PDK_ERR_TIMEOUT. > 0. */
    uint32_t timeout_ms;
    pdk_provision_output_fn output; /* mandatory */
    void* output_user;
    pdk_provision_cancel_fn is_cancelled; /* may be NULL: never cancelled */
    void* cancel_user;
} pdk_provision_request;
#define PDK_PROVISION_REQUEST_SIZE_1_6 PDK_FIELD_END(pdk_provision_request, cancel_user)

/*
 * How a run went. Caller-owned; the provisioner writes only what struct_size covers (like
 * pdk_error), on every return of `run` that got as far as starting the recipe. The counts are
 * summed over hosts from the recipe's own report; -1 when it gave none.
 */
typedef struct pdk_provision_result {
    uint32_t struct_size;
    int32_t exit_code; /* of the recipe's process; -1: it did not run or was killed */
    int32_t ok;        /* tasks that were fine */
    int32_t changed;   /* tasks that changed something (0 on a second, idempotent run) */
    int32_t failed;    /* tasks that failed */
    int32_t unreachable;
    int32_t skipped;
    double duration_seconds; /* wall time of the run */
} pdk_provision_result;
#define PDK_PROVISION_RESULT_SIZE_1_6 PDK_FIELD_END(pdk_provision_result, duration_seconds)

typedef struct pdk_provisioner_vtable {
    uint32_t struct_size;

    /*
     * Runs `request->recipe` against the VM and returns when it ended. PDK_OK: the recipe ran to
     * the end without a failed task. Otherwise, with a message saying what went wrong in plain
     * words (the last error the recipe reported, where there is one):
     *  - PDK_ERR_INVALID_ARGUMENT: a missing mandatory field, a zero timeout, an unknown setting,
     *    variables that are not one JSON object, a recipe that does not exist or does not parse;
     *  - PDK_ERR_UNAVAILABLE: the tool is not installed, or the host cannot be reached or logged
     *    into (including a host key other than the pinned one);
     *  - PDK_ERR_FORBIDDEN: privilege escalation was refused (no password given where one is
     *    needed, or a wrong one);
     *  - PDK_ERR_INTERNAL: a task of the recipe failed;
     *  - PDK_ERR_TIMEOUT / PDK_ERR_CANCELLED: stopped, everything it started killed.
     * `result` may be NULL. Mandatory.
     */
    pdk_status (*run)(const pdk_provision_request* request, uint32_t flags, pdk_provision_result* result,
                      pdk_error* err);

    /*
     * Checks without running anything against a VM that a run could start: the tool is
     * installed, `settings` are known, `recipe` (may be NULL: skip) exists and parses. Writes a
     * one-line description of the tool found (e.g. "ansible-playbook [core 2.14.18]") into
     * `version`, `version_size` bytes, NUL-terminated, truncated to fit (may be NULL/0). Errors
     * as `run`. Threading: any thread, concurrently with everything. NULL: no check offered.
     */
    pdk_status (*check)(const pdk_kv* settings, size_t setting_count, const char* recipe, uint32_t flags,
                        char* version, size_t version_size, pdk_error* err);
} pdk_provisioner_vtable;
#define PDK_PROVISIONER_VTABLE_SIZE_1_6 PDK_FIELD_END(pdk_provisioner_vtable, check)

#ifdef __cplusplus
}
#endif

#endif /* PADDOCK_PDK_PROVISIONER_H */
