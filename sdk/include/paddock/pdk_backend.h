/*
 * Paddock plugin ABI: hypervisor backends (PDK_PLUGIN_KIND_BACKEND).
 *
 * A backend exposes a flat table of nullable function pointers (pdk_backend_vtable).
 * NULL means "this backend cannot do that"; the host turns it into one "unsupported by
 * backend X" error. Every function:
 *  - returns pdk_status and, when not PDK_OK, fills the caller's `err` (which may be NULL);
 *  - rejects unknown bits in `flags` with PDK_ERR_BAD_FLAGS before doing anything;
 *  - copies every input it needs to keep: input pointers are borrowed for the call only;
 *  - delivers results through caller buffers or sinks that run synchronously on the calling
 *    thread before the function returns; pointers handed to a sink are valid only during
 *    that sink call.
 *
 * Threading: a pdk_backend_connection may be used from several host threads at once; the
 * backend serialises internally where its hypervisor library needs it. open/close of one
 * connection are never concurrent with other calls on that same connection.
 */
#ifndef PADDOCK_PDK_BACKEND_H
#define PADDOCK_PDK_BACKEND_H

#include "pdk_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque, backend-owned connection to one hypervisor URI. Freed by `close`. */
typedef struct pdk_backend_connection pdk_backend_connection;

/* Domain states; the numbers are libvirt's virDomainState, which old clients rely on. */
typedef enum pdk_domain_state {
    PDK_DOMAIN_NOSTATE = 0,
    PDK_DOMAIN_RUNNING = 1,
    PDK_DOMAIN_BLOCKED = 2,
    PDK_DOMAIN_PAUSED = 3,
    PDK_DOMAIN_SHUTDOWN = 4, /* being shut down */
    PDK_DOMAIN_SHUTOFF = 5,
    PDK_DOMAIN_CRASHED = 6,
    PDK_DOMAIN_PMSUSPENDED = 7
} pdk_domain_state;

/* One domain as seen by the hypervisor. Produced by the backend, borrowed by the sink. */
typedef struct pdk_domain_info {
    uint32_t struct_size;
    const char* name;
    const char* uuid; /* canonical 36-character form */
    int32_t id;       /* hypervisor id, -1 when not running */
    pdk_domain_state state;
    uint64_t max_memory_kib;
    uint64_t memory_kib;
    uint32_t vcpus;
    uint64_t cpu_time_ns;
    int32_t has_managed_save; /* 1 when a saved memory image will be restored on start */
    const pdk_kv* metadata;   /* Paddock's metadata of this domain (may be empty) */
    size_t metadata_count;
} pdk_domain_info;
#define PDK_DOMAIN_INFO_SIZE_1_0 PDK_FIELD_END(pdk_domain_info, metadata_count)

/* Receives domains one at a time. Threading: on the thread that called the listing function. */
typedef void (*pdk_domain_sink)(void* user, const pdk_domain_info* info);

/* Receives names (snapshots, ...) one at a time; same threading as pdk_domain_sink. */
typedef void (*pdk_name_sink)(void* user, const char* name);

/* Receives key/value pairs one at a time; same threading as pdk_domain_sink. */
typedef void (*pdk_kv_sink)(void* user, const char* key, const char* value);

typedef enum pdk_network_mode {
    PDK_NETWORK_NONE = 0,
    PDK_NETWORK_USER = 1,   /* user-mode NAT; guest port 22 forwarded from ssh_forward_address (1.7;
                               before: 127.0.0.1):ssh_forward_port on the hypervisor host */
    PDK_NETWORK_LIBVIRT = 2 /* attached to the libvirt network `network_name` */
} pdk_network_mode;

/* What to define. Built and owned by the host; borrowed for the duration of `define_domain`. */
typedef struct pdk_domain_spec {
    uint32_t struct_size;
    const char* name;
    uint32_t vcpus;
    uint64_t memory_mib;
    const char* domain_type;    /* "kvm", "qemu", or NULL/"auto": the backend picks */
    const char* disk_path;      /* primary disk (usually an overlay); NULL for a diskless domain */
    const char* disk_format;    /* e.g. "qcow2"; NULL means "raw" */
    const char* kernel_path;    /* direct kernel boot; NULL to boot from the disk */
    const char* initrd_path;    /* NULL when none */
    const char* kernel_cmdline; /* NULL when none */
    pdk_network_mode network_mode;
    const char* network_name;  /* for PDK_NETWORK_LIBVIRT */
    uint16_t ssh_forward_port; /* for PDK_NETWORK_USER; 0 = no forward */
    const pdk_kv* metadata;    /* stored under Paddock's XML namespace in the domain */
    size_t metadata_count;
    /* ABI 1.7 */
    const char* ssh_forward_address; /* PDK_NETWORK_USER: the IPv4 or IPv6 literal (no brackets, no
                                        port) the SSH forward listens on at the hypervisor host, e.g.
                                        "0.0.0.0" so that a host on another machine reaches it;
                                        NULL or "": 127.0.0.1. The backend refuses anything else
                                        with PDK_ERR_INVALID_ARGUMENT (it never reaches the domain's
                                        definition unchecked). A 1.0-1.6 backend does not read it
                                        and listens on 127.0.0.1. */
} pdk_domain_spec;
#define PDK_DOMAIN_SPEC_SIZE_1_0 PDK_FIELD_END(pdk_domain_spec, metadata_count)
#define PDK_DOMAIN_SPEC_SIZE_1_7 PDK_FIELD_END(pdk_domain_spec, ssh_forward_address)

/* A copy-on-write overlay volume to create. Host-owned, borrowed for the call. */
typedef struct pdk_volume_spec {
    uint32_t struct_size;
    const char* pool;           /* storage pool name */
    const char* name;           /* volume name within the pool, e.g. "vm1.qcow2" */
    const char* backing_path;   /* base image; never written */
    const char* backing_format; /* explicit format of the base, e.g. "qcow2" or "raw" */
    uint64_t capacity_bytes;    /* 0 = the backing image's virtual size */
} pdk_volume_spec;
#define PDK_VOLUME_SPEC_SIZE_1_0 PDK_FIELD_END(pdk_volume_spec, capacity_bytes)

/* Where to reach a guest's SSH server. Caller-owned output. */
typedef struct pdk_ssh_target {
    uint32_t struct_size;
    char host[256];
    uint16_t port;
} pdk_ssh_target;
#define PDK_SSH_TARGET_SIZE_1_0 PDK_FIELD_END(pdk_ssh_target, port)

/* Facts about the connected host. Caller-owned output. */
typedef struct pdk_host_info {
    uint32_t struct_size;
    char hypervisor[64];       /* e.g. "QEMU", "Test", "Xen" */
    char auto_domain_type[16]; /* what "auto" resolves to here: "kvm" or "qemu" */
    char hostname[256];
    uint64_t library_version; /* e.g. libvirt version as major*1e6+minor*1e3+release */
    /* ABI 1.1 */
    uint64_t hypervisor_version; /* e.g. QEMU's version as major*1e6+minor*1e3+release; 0: unknown */
} pdk_host_info;
#define PDK_HOST_INFO_SIZE_1_0 PDK_FIELD_END(pdk_host_info, library_version)

typedef enum pdk_lifecycle_event {
    PDK_EVENT_DEFINED = 0,
    PDK_EVENT_UNDEFINED = 1,
    PDK_EVENT_STARTED = 2,
    PDK_EVENT_SUSPENDED = 3,
    PDK_EVENT_RESUMED = 4,
    PDK_EVENT_STOPPED = 5,
    PDK_EVENT_SHUTDOWN = 6,
    PDK_EVENT_PMSUSPENDED = 7,
    PDK_EVENT_CRASHED = 8,
    PDK_EVENT_CONNECTION_LOST = 100 /* `name` is NULL; the connection must be reopened */
} pdk_lifecycle_event;

/*
 * Lifecycle notification. Threading: called on a backend-owned event thread, never
 * concurrently with itself for one connection; it must return quickly and must not call
 * back into the same connection's `subscribe_events` or `close`. `name` is valid only during
 * the call. See subscribe_events for when the calls stop.
 */
typedef void (*pdk_event_sink)(void* user, const char* name, pdk_lifecycle_event event);

/* Flags */
#define PDK_LIST_WITH_METADATA (1u << 0) /* list_domains: also fill `metadata` (may cost a round trip per domain) */
#define PDK_UNDEFINE_REMOVE_STORAGE (1u << 0) /* also delete the domain's disk volumes */
#define PDK_SNAPSHOT_DISK_ONLY (1u << 0)      /* create: disk state only, even when running */
#define PDK_SNAPSHOT_REPLACE (1u << 1)        /* create: delete a same-named snapshot first */
#define PDK_REVERT_START (1u << 0)            /* revert: leave the domain running afterwards */
#define PDK_REVERT_STOPPED (1u << 1)          /* revert: leave the domain off (ABI 1.4; not with START) */
#define PDK_METADATA_LIVE (1u << 0)           /* set_metadata: also update the running domain */

/* ABI 1.4: a snapshot with its facts. Produced by the backend, borrowed by the sink. */
typedef struct pdk_snapshot_info {
    uint32_t struct_size;
    const char* name;
    const char* description; /* "" when none */
    const char* parent;      /* NULL for a snapshot without parent */
    int64_t created_at;      /* Unix time, seconds */
    pdk_domain_state state;  /* the domain's state the snapshot captured (shut off: disk only) */
    int32_t has_memory;      /* 1: memory + disk (reverting resumes the guest where it was) */
    int32_t is_current;      /* 1: the domain's current snapshot */
    int64_t size_bytes;      /* bytes the snapshot holds; -1 when the backend cannot tell */
} pdk_snapshot_info;
#define PDK_SNAPSHOT_INFO_SIZE_1_4 PDK_FIELD_END(pdk_snapshot_info, size_bytes)

/* Receives snapshots one at a time; same threading as pdk_domain_sink. */
typedef void (*pdk_snapshot_sink)(void* user, const pdk_snapshot_info* info);

/* ABI 1.4: what snapshot to take. Host-owned, borrowed for the call. */
typedef struct pdk_snapshot_spec {
    uint32_t struct_size;
    const char* name;
    const char* description; /* NULL or "": none */
} pdk_snapshot_spec;
#define PDK_SNAPSHOT_SPEC_SIZE_1_4 PDK_FIELD_END(pdk_snapshot_spec, description)

/* ABI 1.4: one backup of a domain's disk. Host-owned, borrowed for the call. */
typedef struct pdk_backup_spec {
    uint32_t struct_size;
    const char* target_path;      /* file to write (qcow2); must not exist; the backend makes it 0600 */
    const char* checkpoint;       /* name of the checkpoint this backup sets: later changes are
                                     counted from here */
    const char* incremental_from; /* NULL: full backup (every allocated cluster of the disk as the
                                     guest sees it); else only what changed since this checkpoint */
    const char* backing_name;     /* incremental only: written into the file's header as its backing
                                     file (relative to the file's directory), so that the chain of
                                     backup files reads as one disk with plain qemu-img; NULL: none */
} pdk_backup_spec;
#define PDK_BACKUP_SPEC_SIZE_1_4 PDK_FIELD_END(pdk_backup_spec, backing_name)

/* ABI 1.4: what a backup did. Caller-owned output. */
typedef struct pdk_backup_result {
    uint32_t struct_size;
    uint64_t bytes;   /* size of the file written */
    int32_t offline;  /* 1: the domain was off and was started paused (never running its CPUs)
                         only to be backed up, then returned to its earlier state */
} pdk_backup_result;
#define PDK_BACKUP_RESULT_SIZE_1_4 PDK_FIELD_END(pdk_backup_result, offline)

/* ABI 1.4: a new volume holding the disk a backup file (with the backing chain named in its
 * header) describes. Host-owned, borrowed for the call. */
typedef struct pdk_restore_spec {
    uint32_t struct_size;
    const char* pool;        /* storage pool of the new volume */
    const char* name;        /* its name in the pool, e.g. "vm2.qcow2" */
    const char* source_path; /* the newest backup file of the chain to restore */
} pdk_restore_spec;
#define PDK_RESTORE_SPEC_SIZE_1_4 PDK_FIELD_END(pdk_restore_spec, source_path)

/* ABI 1.7: the connected host's capacity. Caller-owned output. */
typedef struct pdk_host_resources {
    uint32_t struct_size;
    uint32_t cpus;               /* logical CPUs of the host (libvirt: virNodeGetInfo's cpus) */
    uint64_t memory_total_bytes; /* the host's memory */
    uint64_t memory_free_bytes;  /* what new guests can have now: free memory plus the page
                                    cache and buffers the kernel reclaims on demand (libvirt:
                                    virNodeGetMemoryStats' free + buffers + cached; the free
                                    pages of virNodeGetFreeMemory where the driver has no stats);
                                    at most memory_total_bytes; a snapshot, it changes by itself */
} pdk_host_resources;
#define PDK_HOST_RESOURCES_SIZE_1_7 PDK_FIELD_END(pdk_host_resources, memory_free_bytes)

/* ABI 1.7: what the host knows about a file (a base image, kernel, initrd). Caller-owned output. */
typedef struct pdk_volume_info {
    uint32_t struct_size;
    int32_t in_pool;         /* 1: a storage volume of pool `pool`; 0: a plain file the backend
                                found outside every pool (local connections only) */
    uint64_t capacity_bytes; /* virtual size (what a guest sees); 0 when unknown */
    char format[16];         /* "qcow2", "raw", ...; "" when unknown */
    char pool[128];          /* the storage pool holding it; "" when in_pool is 0 */
} pdk_volume_info;
#define PDK_VOLUME_INFO_SIZE_1_7 PDK_FIELD_END(pdk_volume_info, pool)

typedef struct pdk_backend_vtable {
    uint32_t struct_size;

    /* Open a connection to `uri`. On PDK_OK *out receives a connection the caller frees with
     * `close`. Mandatory. */
    pdk_status (*open)(const char* uri, uint32_t flags, pdk_backend_connection** out, pdk_error* err);

    /* Free a connection. Mandatory. Never fails. */
    void (*close)(pdk_backend_connection* conn);

    /* 1 when the connection is alive, 0 when it must be reopened. */
    int (*is_alive)(pdk_backend_connection* conn);

    pdk_status (*host_info)(pdk_backend_connection* conn, uint32_t flags, pdk_host_info* out, pdk_error* err);

    /* Every domain with its state, in one hypervisor round trip where possible; metadata only
     * with PDK_LIST_WITH_METADATA (get_domain always fills it). */
    pdk_status (*list_domains)(pdk_backend_connection* conn, uint32_t flags, pdk_domain_sink sink, void* user,
                               pdk_error* err);

    /* One domain; the sink is called exactly once on PDK_OK. PDK_ERR_NOT_FOUND when unknown. */
    pdk_status (*get_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_domain_sink sink,
                             void* user, pdk_error* err);

    /* Define (persistently, not started). PDK_ERR_ALREADY_EXISTS when the name is taken. */
    pdk_status (*define_domain)(pdk_backend_connection* conn, const pdk_domain_spec* spec, uint32_t flags,
                                pdk_error* err);

    /* Start a defined domain (restores a managed save when there is one). A running domain
     * answers PDK_ERR_CONFLICT; a paused one is resumed. */
    pdk_status (*start_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err);

    /* Ask the guest to power off (ACPI). Returns at once; the caller polls the state. */
    pdk_status (*shutdown_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err);

    /* Power off at once, no state saved. PDK_ERR_CONFLICT when not running. */
    pdk_status (*destroy_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err);

    /* Remove the definition (and its snapshots' metadata and managed save). The domain must
     * not be running. PDK_UNDEFINE_REMOVE_STORAGE also deletes its disk volumes. */
    pdk_status (*undefine_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err);

    /* Paddock metadata: read all pairs / replace all pairs. A backend whose hypervisor cannot
     * keep them leaves both NULL (and may refuse metadata in define_domain's spec): the host
     * then keeps them itself, by domain UUID, and hands define_domain no metadata. */
    pdk_status (*get_metadata)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_kv_sink sink,
                               void* user, pdk_error* err);
    pdk_status (*set_metadata)(pdk_backend_connection* conn, const char* name, const pdk_kv* pairs, size_t count,
                               uint32_t flags, pdk_error* err);

    /* Create a qcow2 overlay on a base image; its path is written to path_out (NUL-terminated). */
    pdk_status (*create_overlay)(pdk_backend_connection* conn, const pdk_volume_spec* spec, uint32_t flags,
                                 char* path_out, size_t path_capacity, pdk_error* err);

    /* Delete a volume by path. PDK_ERR_NOT_FOUND when there is none. */
    pdk_status (*delete_volume)(pdk_backend_connection* conn, const char* path, uint32_t flags, pdk_error* err);

    /* Snapshots (memory + disk while running unless PDK_SNAPSHOT_DISK_ONLY). */
    pdk_status (*snapshot_create)(pdk_backend_connection* conn, const char* domain, const char* snapshot,
                                  uint32_t flags, pdk_error* err);
    pdk_status (*snapshot_list)(pdk_backend_connection* conn, const char* domain, uint32_t flags, pdk_name_sink sink,
                                void* user, pdk_error* err);
    pdk_status (*snapshot_revert)(pdk_backend_connection* conn, const char* domain, const char* snapshot,
                                  uint32_t flags, pdk_error* err);
    pdk_status (*snapshot_delete)(pdk_backend_connection* conn, const char* domain, const char* snapshot,
                                  uint32_t flags, pdk_error* err);

    /* Save memory state and stop (managed save); `start_domain` restores it. */
    pdk_status (*save_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err);

    /* Where to reach the guest's SSH server: an address the host set up (a user-mode forward, a
     * DHCP lease the hypervisor's network handed to the domain's MAC). Never an address the
     * guest reports itself (e.g. through a guest agent): the host connects there with its own
     * key and pins the host key it finds, so the answer must not be guest-controlled. */
    pdk_status (*ssh_target)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_ssh_target* out,
                             pdk_error* err);

    /* Subscribe to lifecycle events; one subscription per connection, replaced by a later
     * call, removed by passing sink = NULL. See pdk_event_sink for threading.
     * Guarantee (the host frees the sink's `user` data relying on it): once this call returns,
     * the sink and `user` it replaced or removed are never called again, and no call of them is
     * still running; the same holds for the current sink once `close` returns. A backend whose
     * events arrive on its own thread therefore waits here for a sink call in progress. */
    pdk_status (*subscribe_events)(pdk_backend_connection* conn, pdk_event_sink sink, void* user, uint32_t flags,
                                   pdk_error* err);

    /* ABI 1.2 */

    /* The path `create_overlay` will give a new volume `name` in storage pool `pool`, written to
     * path_out (NUL-terminated); nothing is created. The host names a disk in a domain's
     * definition before it creates the disk, so that a crash between the two steps leaves a
     * record of the disk instead of an unreferenced volume. PDK_ERR_ALREADY_EXISTS when the
     * pool already holds a volume of that name; PDK_ERR_NOT_FOUND for an unknown pool;
     * PDK_ERR_UNSUPPORTED when the pool's volume paths do not follow from their names;
     * PDK_ERR_BUFFER_TOO_SMALL when path_capacity is too small. NULL: the host creates the
     * overlay first and defines the domain after it (no record of the disk in between). */
    pdk_status (*volume_path)(pdk_backend_connection* conn, const char* pool, const char* name, uint32_t flags,
                              char* path_out, size_t path_capacity, pdk_error* err);

    /* ABI 1.4 */

    /* Every snapshot of `domain` with its facts (snapshot_list gives names only). */
    pdk_status (*snapshot_list_info)(pdk_backend_connection* conn, const char* domain, uint32_t flags,
                                     pdk_snapshot_sink sink, void* user, pdk_error* err);

    /* snapshot_create with a description (same flags). PDK_ERR_ALREADY_EXISTS when the name is
     * taken and PDK_SNAPSHOT_REPLACE is not given. */
    pdk_status (*snapshot_create_spec)(pdk_backend_connection* conn, const char* domain,
                                       const pdk_snapshot_spec* spec, uint32_t flags, pdk_error* err);

    /* Back up the domain's disk to spec->target_path and set checkpoint spec->checkpoint; returns
     * when the file is complete. A running domain keeps running; a domain that is off is backed
     * up from its disk image with the same checkpoint semantics (the backend says how in
     * out->offline). PDK_ERR_NOT_FOUND when spec->incremental_from names no checkpoint of the
     * domain (the host then starts a new chain with a full backup). On failure no target file
     * and no new checkpoint are left. Note for snapshot_revert: a backend may have to drop the
     * domain's checkpoints to revert (QEMU cannot load a snapshot over dirty bitmaps); the next
     * incremental backup then answers PDK_ERR_NOT_FOUND. The libvirt backend drops them on every
     * revert, and when taking a snapshot of a shut-off domain (libvirt refuses block operations
     * on an inactive disk with checkpoints); its revert also discards a leftover managed save,
     * which the next start would otherwise restore over the reverted disk. */
    pdk_status (*backup_create)(pdk_backend_connection* conn, const char* domain, const pdk_backup_spec* spec,
                                uint32_t flags, pdk_backup_result* out, pdk_error* err);

    /* Remove checkpoint `checkpoint` of `domain` (its changes merge into its parent's).
     * PDK_ERR_NOT_FOUND when there is none. */
    pdk_status (*checkpoint_delete)(pdk_backend_connection* conn, const char* domain, const char* checkpoint,
                                    uint32_t flags, pdk_error* err);

    /* Create volume spec->name in spec->pool holding, as one self-contained image, the disk that
     * spec->source_path and its backing chain describe; its path is written to path_out.
     * PDK_ERR_ALREADY_EXISTS when the pool holds that volume. */
    pdk_status (*restore_volume)(pdk_backend_connection* conn, const pdk_restore_spec* spec, uint32_t flags,
                                 char* path_out, size_t path_capacity, pdk_error* err);

    /* ABI 1.5 */

    /* Whether the guest OS of running domain `domain` is alive, by its guest agent (QEMU:
     * "guest-ping"): the domain's state alone cannot tell a hung guest from a working one. Nothing
     * in the guest changes. Waits about timeout_ms for the answer (a backend whose hypervisor
     * counts in coarser units rounds up, and waits at least its smallest unit; the libvirt
     * backend: whole seconds, and libvirt's own sync with a hung agent adds up to about 5 s).
     * PDK_OK: the agent answered in time. PDK_ERR_NOT_FOUND: no such domain. PDK_ERR_CONFLICT:
     * the domain is not running (shut off, or paused/suspended: its guest cannot answer).
     * PDK_ERR_UNSUPPORTED: the domain has no guest-agent channel, or the backend (or its driver)
     * has no guest agent. PDK_ERR_UNAVAILABLE: the channel is there but the agent did not answer
     * in time or is not connected (not started yet, stopped, hung, or the guest is down); the
     * message says which (a lost hypervisor connection answers PDK_ERR_UNAVAILABLE too). No
     * flags are defined. Threading: blocks the calling thread while it waits; other calls on
     * the same connection may run meanwhile. NULL: the backend has no guest agent (the host
     * answers PDK_ERR_UNSUPPORTED). */
    pdk_status (*guest_ping)(pdk_backend_connection* conn, const char* domain, uint32_t timeout_ms, uint32_t flags,
                             pdk_error* err);

    /* ABI 1.7 */

    /* The host's CPUs, total and free memory, into *out (the backend writes what out->struct_size
     * covers). Two or three hypervisor round trips (libvirt: virNodeGetInfo and
     * virNodeGetMemoryStats); hosts call it from a worker thread at a slow cadence, never per
     * request. No flags are defined. NULL: the backend cannot tell (the host then places VMs by
     * its configured limits only). */
    pdk_status (*host_resources)(pdk_backend_connection* conn, uint32_t flags, pdk_host_resources* out,
                                 pdk_error* err);

    /* Whether file `path` (absolute) exists on the hypervisor host, with its size and format
     * when the backend can tell, into *out. The host checks a template's base image, kernel and
     * initrd with it before it places a VM on a site. A storage volume with that path
     * (libvirt: virStorageVolLookupByPath, which only sees pools that are active and refreshed)
     * answers in_pool 1. A path no pool holds: on a local connection (the URI names no host; the
     * backend and the hypervisor share a file system) the backend may look at the file itself
     * (in_pool 0); on a remote connection it cannot, and answers PDK_ERR_NOT_FOUND saying that
     * no storage pool on that host holds the path. PDK_ERR_NOT_FOUND with a message saying why
     * whenever the file is not there; PDK_ERR_INVALID_ARGUMENT for a path that is not absolute.
     * No flags are defined. NULL: the backend cannot tell (the host assumes the file is there
     * and lets the create fail if it is not). */
    pdk_status (*volume_info)(pdk_backend_connection* conn, const char* path, uint32_t flags, pdk_volume_info* out,
                              pdk_error* err);

    /* ABI 1.8 */

    /* Pause running domain `name`: its memory stays allocated on the host, its vCPUs stop
     * (libvirt: virDomainSuspend). `start_domain` resumes it. Returns once the domain is paused;
     * a domain that is paused already answers PDK_OK (nothing changes). PDK_ERR_NOT_FOUND: no
     * such domain; PDK_ERR_CONFLICT: the domain is not running (shut off, or suspended by the
     * guest itself: PDK_DOMAIN_PMSUSPENDED). No flags are defined. NULL: the backend cannot
     * pause (the host then refuses a pool with `mode: paused` on that site). */
    pdk_status (*suspend_domain)(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err);
} pdk_backend_vtable;
#define PDK_BACKEND_VTABLE_SIZE_1_0 PDK_FIELD_END(pdk_backend_vtable, subscribe_events)
#define PDK_BACKEND_VTABLE_SIZE_1_2 PDK_FIELD_END(pdk_backend_vtable, volume_path)
#define PDK_BACKEND_VTABLE_SIZE_1_4 PDK_FIELD_END(pdk_backend_vtable, restore_volume)
#define PDK_BACKEND_VTABLE_SIZE_1_5 PDK_FIELD_END(pdk_backend_vtable, guest_ping)
#define PDK_BACKEND_VTABLE_SIZE_1_7 PDK_FIELD_END(pdk_backend_vtable, volume_info)
#define PDK_BACKEND_VTABLE_SIZE_1_8 PDK_FIELD_END(pdk_backend_vtable, suspend_domain)

#ifdef __cplusplus
}
#endif

#endif /* PADDOCK_PDK_BACKEND_H */
