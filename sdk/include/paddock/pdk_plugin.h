/*
 * Paddock plugin ABI, common part.
 *
 * Rules (see DESIGN.md, "The plugin ABI"):
 *  - Pure C11; also compiles as C++17/20. No C++ type, exception or allocator crosses it.
 *  - A plugin exports exactly one symbol, `pdk_plugin_entry`, returning its descriptor.
 *  - The host checks `abi_major` first and refuses a mismatch.
 *  - Every struct starts with `struct_size` and only ever grows, by fields appended after the
 *    end of the previous version's struct. Whoever receives a struct uses a field only when
 *    `struct_size` covers it (PDK_STRUCT_HAS); whoever fills a struct the other side owns writes
 *    only the bytes its `struct_size` covers and leaves `struct_size` alone. PDK_*_SIZE_1_0
 *    is each struct's size in ABI 1.0: a host never hands a plugin less (pdk_error aside, a
 *    plugin refuses it with PDK_ERR_INVALID_ARGUMENT), so only later fields need PDK_STRUCT_HAS.
 *    pdk_struct.h has inline helpers that apply these rules (the C++ helper uses them).
 *  - Every pointer has a documented owner; whoever allocates frees. Results reach the caller
 *    through caller-provided buffers or sinks (callbacks), never through plugin-allocated memory
 *    the caller must free.
 *  - Errors: a pdk_status return value plus a message written into a caller-provided pdk_error.
 *  - An operation a plugin cannot do is a NULL function pointer.
 *  - Every operation takes `flags`; an implementation rejects unknown bits with PDK_ERR_BAD_FLAGS.
 */
#ifndef PADDOCK_PDK_PLUGIN_H
#define PADDOCK_PDK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_ABI_VERSION_MAJOR 1u
#define PDK_ABI_VERSION_MINOR 8u

#if defined(_WIN32)
#define PDK_EXPORT __declspec(dllexport)
#else
#define PDK_EXPORT __attribute__((visibility("default")))
#endif

/* The offset just past a field: a struct_size of at least this much holds the field in full. */
#define PDK_FIELD_END(type, field) (offsetof(type, field) + sizeof(((type*)0)->field))

/* True when a struct of the given (reported) size contains the named field in full. */
#define PDK_STRUCT_HAS(ptr, type, field) ((ptr)->struct_size >= PDK_FIELD_END(type, field))

typedef enum pdk_status {
    PDK_OK = 0,
    PDK_ERR_INVALID_ARGUMENT = 1, /* the input is malformed or out of range */
    PDK_ERR_NOT_FOUND = 2,        /* the named object does not exist */
    PDK_ERR_ALREADY_EXISTS = 3,   /* an object of that name exists already */
    PDK_ERR_CONFLICT = 4,         /* the object is in the wrong state for the operation */
    PDK_ERR_UNSUPPORTED = 5,      /* the backend (or its driver) cannot do this */
    PDK_ERR_UNAVAILABLE = 6,      /* the hypervisor connection is down or unreachable */
    PDK_ERR_BAD_FLAGS = 7,        /* unknown bits in `flags` */
    PDK_ERR_BUFFER_TOO_SMALL = 8, /* a caller buffer cannot hold the result */
    PDK_ERR_TIMEOUT = 9,          /* the operation did not finish in time */
    PDK_ERR_INTERNAL = 10,        /* anything else; the message says what */
    PDK_ERR_FORBIDDEN = 11,       /* 1.6: the peer refused the credentials (a provisioner's become password) */
    PDK_ERR_CANCELLED = 12        /* 1.6: the host cancelled the call (a provisioner's is_cancelled) */
} pdk_status;

#define PDK_ERROR_MESSAGE_MAX 1024

/*
 * Caller-owned error record. The caller sets struct_size (normally sizeof(pdk_error)) and may
 * pass it to any call; only when it returns something other than PDK_OK, the callee writes what
 * fits in struct_size: `status` when it is covered, then a NUL-terminated `message` truncated to
 * the room there is (pdk_write_error in pdk_struct.h). A record too small for `status` gets
 * nothing; one too small for a byte of message gets the status only.
 */
typedef struct pdk_error {
    uint32_t struct_size;
    pdk_status status;
    char message[PDK_ERROR_MESSAGE_MAX];
} pdk_error;

typedef enum pdk_plugin_kind {
    PDK_PLUGIN_KIND_BACKEND = 1,     /* vtable: const pdk_backend_vtable* (pdk_backend.h) */
    PDK_PLUGIN_KIND_PROVISIONER = 2, /* 1.6; vtable: const pdk_provisioner_vtable* (pdk_provisioner.h) */
    PDK_PLUGIN_KIND_RECORDER = 3     /* vtable: const pdk_recorder_vtable* (pdk_recorder.h) */
} pdk_plugin_kind;

/* A key/value pair of NUL-terminated strings. Owner: whoever built the array. */
typedef struct pdk_kv {
    const char* key;
    const char* value;
} pdk_kv;

/* Severity of a line a plugin logs through the host (1.1). */
typedef enum pdk_log_level {
    PDK_LOG_DEBUG = 0,
    PDK_LOG_INFO = 1,
    PDK_LOG_WARNING = 2,
    PDK_LOG_ERROR = 3
} pdk_log_level;

/*
 * Hands one log line to the host (1.1). `message` is NUL-terminated UTF-8 without a trailing
 * newline, borrowed for the call. Threading: may be called from any thread, concurrently, from
 * the start of `init` until `deinit` returns for the same pdk_host; never after. It never calls
 * back into the plugin and does not block on anything the plugin holds.
 */
typedef void (*pdk_log_fn)(void* host_data, pdk_log_level level, const char* message);

/*
 * What a plugin learns about the host that loads it (1.1), passed to `init`. Built and owned by
 * the host; valid from `init` until the matching `deinit` returns, so the plugin may keep the
 * pointer (or a copy) until then. Read it by the struct rules: fields beyond struct_size are
 * absent (pdk_copy_in).
 */
typedef struct pdk_host {
    uint32_t struct_size;
    uint16_t abi_major; /* the host's PDK_ABI_VERSION_MAJOR */
    uint16_t abi_minor; /* the host's PDK_ABI_VERSION_MINOR */
    void* host_data;    /* opaque; pass it back to `log` */
    pdk_log_fn log;     /* never NULL from a Paddock host */
} pdk_host;

#define PDK_HOST_SIZE_1_1 PDK_FIELD_END(pdk_host, log)

/* The longest descriptor chain (`next`) a host accepts from one library. */
#define PDK_MAX_PLUGINS_PER_LIBRARY 64

/*
 * What a plugin is. Returned by pdk_plugin_entry; owned by the plugin, static, valid for as
 * long as the library stays loaded. The host never writes to it.
 *
 * A library holds one plugin or several (1.1): the entry descriptor's `next` chains further
 * descriptors of the same library, each with its own id, kind and vtable. The host walks the
 * chain (at most PDK_MAX_PLUGINS_PER_LIBRARY descriptors; a cycle, a duplicate id or any invalid
 * descriptor refuses the whole library) and registers every plugin; they all share the one
 * loaded library. A 1.0 host reads only the entry descriptor and loads the first plugin.
 *
 * `init` and `deinit` are library-wide and read from the entry descriptor only (leave them NULL
 * in chained descriptors; a host ignores them there). Both are optional. The host calls
 * `init` once it has validated every descriptor of the library and before it uses any plugin
 * of it; a status other than PDK_OK refuses the library with the message in `err`. The host
 * calls `deinit` exactly once per successful `init`, with the same `host` pointer, after every
 * object made from the library's plugins (connections, recordings) is closed and before it
 * unloads the library; nothing of that host calls into the library afterwards.
 *  - A 1.0 host never calls either: a plugin must work without `init` (start what it needs
 *    lazily) and must not rely on `deinit` to be safe to leave loaded.
 *  - One process may load the same library through several hosts, which share one mapping of
 *    it: `init`/`deinit` pairs may then nest and interleave (each with its own pdk_host). A
 *    plugin stops its threads at the `deinit` that leaves no host attached.
 *  - Threading: any host thread; init and deinit of different hosts may run concurrently, so
 *    a plugin serialises them itself. `init` takes no flags in 1.1 (others: PDK_ERR_BAD_FLAGS).
 */
typedef struct pdk_plugin_descriptor {
    uint32_t struct_size;
    uint16_t abi_major; /* PDK_ABI_VERSION_MAJOR the plugin was built against */
    uint16_t abi_minor; /* PDK_ABI_VERSION_MINOR the plugin was built against */
    pdk_plugin_kind kind;
    const char* id;                  /* reverse-DNS id, e.g. "org.paddock.libvirt-qemu" */
    const char* name;                /* human-readable name */
    const char* version;             /* the plugin's own version, e.g. "1.0.0" */
    const char* description;         /* one sentence */
    const char* const* capabilities; /* NULL-terminated list of capability ids */
    const void* vtable;              /* kind-specific function table, see `kind` */
    /* ABI 1.1 */
    pdk_status (*init)(const pdk_host* host, uint32_t flags, pdk_error* err); /* entry only; may be NULL */
    void (*deinit)(const pdk_host* host);                                     /* entry only; may be NULL */
    const struct pdk_plugin_descriptor* next; /* the library's next plugin; NULL ends the chain */
} pdk_plugin_descriptor;

#define PDK_PLUGIN_DESCRIPTOR_SIZE_1_0 PDK_FIELD_END(pdk_plugin_descriptor, vtable)
#define PDK_PLUGIN_DESCRIPTOR_SIZE_1_1 PDK_FIELD_END(pdk_plugin_descriptor, next)

/*
 * The one exported symbol. Returns the entry descriptor, the same each time. Threading: called
 * by every host that loads the library, on its loading thread.
 */
#define PDK_PLUGIN_ENTRY_SYMBOL "pdk_plugin_entry"
typedef const pdk_plugin_descriptor* (*pdk_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* PADDOCK_PDK_PLUGIN_H */
