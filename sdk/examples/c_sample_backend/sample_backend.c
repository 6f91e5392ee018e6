/*
 * A complete Paddock backend in plain C11: an in-memory "hypervisor".
 *
 * Each connection (URI "sample:///anything") owns its own list of domains, like libvirt's
 * test:///default driver: state lives as long as the connection and is never shared.
 * Domains are not real machines; start/shutdown/destroy only change their state.
 *
 * Ownership, as the ABI requires (pdk_plugin.h):
 *  - the connection is allocated by sample_open and freed by sample_close, nothing else;
 *  - every input (names, the domain spec, metadata) is borrowed for the call only, so the
 *    backend copies what it keeps (define copies the name and every metadata pair);
 *  - results go to the caller's sink or buffers; the pdk_domain_info handed to a sink points into
 *    this backend's memory and is valid only during that sink call.
 *
 * Threading: one mutex per connection serialises all calls on it. Sinks run on the calling
 * thread with that mutex held, so a sink must not call back into the same connection.
 */
#include <paddock/pdk_backend.h>
#include <paddock/pdk_struct.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_NAME_MAX 128
#define SAMPLE_URI_SCHEME "sample:"

typedef struct sample_domain {
    struct sample_domain* next;
    char name[SAMPLE_NAME_MAX];
    char uuid[37];
    int32_t id; /* -1 unless running or paused */
    pdk_domain_state state;
    uint32_t vcpus;
    uint64_t memory_mib;
    pdk_kv* metadata; /* owned, with owned key and value strings */
    size_t metadata_count;
} sample_domain;

struct pdk_backend_connection {
    pthread_mutex_t lock;
    sample_domain* domains; /* owned singly linked list, in definition order */
    uint32_t next_serial;   /* for uuids */
    int32_t next_id;        /* for running domains' ids */
};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Formats the message, then writes as much of it as the caller's pdk_error has room for. */
static pdk_status fail(pdk_error* err, pdk_status status, const char* format, ...) {
    char message[PDK_ERROR_MESSAGE_MAX];
    va_list args;
    va_start(args, format);
    const int n = vsnprintf(message, sizeof message, format, args); /* truncates, always NUL-terminates */
    va_end(args);
    const size_t length = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
    return pdk_write_error(err, status, message, length);
}

static pdk_status check_flags(uint32_t flags, uint32_t allowed, pdk_error* err) {
    if ((flags & ~allowed) != 0) {
        return fail(err, PDK_ERR_BAD_FLAGS, "unsupported flag bits 0x%x", (unsigned)(flags & ~allowed));
    }
    return PDK_OK;
}

static char* copy_string(const char* s) {
    if (s == NULL) return NULL;
    const size_t n = strlen(s) + 1;
    char* out = malloc(n);
    if (out != NULL) memcpy(out, s, n);
    return out;
}

static void free_metadata(pdk_kv* pairs, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        free((char*)pairs[i].key);
        free((char*)pairs[i].value);
    }
    free(pairs);
}

static void free_domain(sample_domain* d) {
    free_metadata(d->metadata, d->metadata_count);
    free(d);
}

/* A name a domain may have: no '/' (hypervisors use names in paths) and no control characters. */
static int valid_name(const char* name) {
    for (const unsigned char* p = (const unsigned char*)name; *p != '\0'; ++p) {
        if (*p == '/' || *p < 0x20 || *p == 0x7f) return 0;
    }
    return 1;
}

/* Caller holds conn->lock. */
static sample_domain* find(pdk_backend_connection* conn, const char* name) {
    for (sample_domain* d = conn->domains; d != NULL; d = d->next) {
        if (strcmp(d->name, name) == 0) return d;
    }
    return NULL;
}

/* Caller holds conn->lock; `info` borrows from `d`. */
static void describe(const sample_domain* d, int with_metadata, pdk_domain_info* info) {
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    info->name = d->name;
    info->uuid = d->uuid;
    info->id = d->id;
    info->state = d->state;
    info->max_memory_kib = d->memory_mib * 1024u;
    info->memory_kib = d->state == PDK_DOMAIN_RUNNING || d->state == PDK_DOMAIN_PAUSED ? d->memory_mib * 1024u : 0;
    info->vcpus = d->vcpus;
    info->metadata = with_metadata ? d->metadata : NULL;
    info->metadata_count = with_metadata ? d->metadata_count : 0;
}

/* Looks a domain up by name, locking the connection; on PDK_OK the caller must unlock. */
static pdk_status lock_domain(pdk_backend_connection* conn, const char* name, sample_domain** out, pdk_error* err) {
    if (conn == NULL || name == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "connection or name is NULL");
    pthread_mutex_lock(&conn->lock);
    *out = find(conn, name);
    if (*out == NULL) {
        pthread_mutex_unlock(&conn->lock);
        return fail(err, PDK_ERR_NOT_FOUND, "domain '%s' does not exist", name);
    }
    return PDK_OK;
}

/* ---- the vtable ------------------------------------------------------------------------- */

static pdk_status sample_open(const char* uri, uint32_t flags, pdk_backend_connection** out, pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    if (out == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "out is NULL");
    if (uri == NULL || strncmp(uri, SAMPLE_URI_SCHEME, strlen(SAMPLE_URI_SCHEME)) != 0) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "the sample backend serves only sample:/// URIs, not '%s'",
                    uri == NULL ? "(null)" : uri);
    }
    pdk_backend_connection* conn = calloc(1, sizeof *conn);
    if (conn == NULL) return fail(err, PDK_ERR_INTERNAL, "out of memory");
    if (pthread_mutex_init(&conn->lock, NULL) != 0) {
        free(conn);
        return fail(err, PDK_ERR_INTERNAL, "cannot create a mutex");
    }
    conn->next_id = 1;
    *out = conn;
    return PDK_OK;
}

static void sample_close(pdk_backend_connection* conn) {
    if (conn == NULL) return;
    sample_domain* d = conn->domains;
    while (d != NULL) {
        sample_domain* next = d->next;
        free_domain(d);
        d = next;
    }
    pthread_mutex_destroy(&conn->lock);
    free(conn);
}

static int sample_is_alive(pdk_backend_connection* conn) { return conn != NULL; }

static pdk_status sample_host_info(pdk_backend_connection* conn, uint32_t flags, pdk_host_info* out, pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    if (conn == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "connection is NULL");
    /* Fill our own, full-size struct; the host gets what its struct_size covers (an older host
     * has a shorter one), so nothing is ever written past its end. */
    pdk_host_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.hypervisor, sizeof info.hypervisor, "Sample");
    snprintf(info.auto_domain_type, sizeof info.auto_domain_type, "qemu");
    snprintf(info.hostname, sizeof info.hostname, "localhost");
    info.library_version = 1000000u;
    if (!pdk_copy_out(out, &info, sizeof info, PDK_HOST_INFO_SIZE_1_0)) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "out is NULL or smaller than ABI 1.0's pdk_host_info");
    }
    return PDK_OK;
}

static pdk_status sample_list_domains(pdk_backend_connection* conn, uint32_t flags, pdk_domain_sink sink, void* user,
                                      pdk_error* err) {
    if (check_flags(flags, PDK_LIST_WITH_METADATA, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    if (conn == NULL || sink == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "connection or sink is NULL");
    pthread_mutex_lock(&conn->lock);
    for (const sample_domain* d = conn->domains; d != NULL; d = d->next) {
        pdk_domain_info info;
        describe(d, (flags & PDK_LIST_WITH_METADATA) != 0, &info);
        sink(user, &info);
    }
    pthread_mutex_unlock(&conn->lock);
    return PDK_OK;
}

static pdk_status sample_get_domain(pdk_backend_connection* conn, const char* name, uint32_t flags,
                                    pdk_domain_sink sink, void* user, pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    if (sink == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
    sample_domain* d;
    const pdk_status s = lock_domain(conn, name, &d, err);
    if (s != PDK_OK) return s;
    pdk_domain_info info;
    describe(d, 1, &info);
    sink(user, &info);
    pthread_mutex_unlock(&conn->lock);
    return PDK_OK;
}

static pdk_status sample_define_domain(pdk_backend_connection* conn, const pdk_domain_spec* host_spec, uint32_t flags,
                                       pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    if (conn == NULL || host_spec == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "connection or spec is NULL");
    /* A spec from an older host may be shorter than ours: work on a zeroed copy of our size
     * holding what it covers, so fields it does not know read as 0/NULL. */
    pdk_domain_spec local;
    if (!pdk_copy_in(&local, sizeof local, host_spec, PDK_DOMAIN_SPEC_SIZE_1_0)) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "domain spec struct_size %u is smaller than ABI 1.0's",
                    (unsigned)host_spec->struct_size);
    }
    const pdk_domain_spec* spec = &local;
    if (spec->name == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "domain name is NULL");
    const size_t name_len = strlen(spec->name);
    if (name_len == 0 || name_len >= SAMPLE_NAME_MAX) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "domain name must have 1 to %d characters", SAMPLE_NAME_MAX - 1);
    }
    if (!valid_name(spec->name)) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "domain name must not contain '/' or control characters");
    }
    if (spec->vcpus == 0) return fail(err, PDK_ERR_INVALID_ARGUMENT, "vcpus must be at least 1");

    sample_domain* d = calloc(1, sizeof *d);
    if (d == NULL) return fail(err, PDK_ERR_INTERNAL, "out of memory");
    memcpy(d->name, spec->name, name_len + 1);
    d->id = -1;
    d->state = PDK_DOMAIN_SHUTOFF;
    d->vcpus = spec->vcpus;
    d->memory_mib = spec->memory_mib;
    const int has_metadata = spec->metadata_count > 0;
    if (has_metadata) {
        if (spec->metadata == NULL) {
            free_domain(d);
            return fail(err, PDK_ERR_INVALID_ARGUMENT, "metadata is NULL but metadata_count is not 0");
        }
        d->metadata = calloc(spec->metadata_count, sizeof *d->metadata);
        if (d->metadata == NULL) {
            free_domain(d);
            return fail(err, PDK_ERR_INTERNAL, "out of memory");
        }
        for (size_t i = 0; i < spec->metadata_count; ++i) {
            d->metadata[i].key = copy_string(spec->metadata[i].key);
            d->metadata[i].value = copy_string(spec->metadata[i].value != NULL ? spec->metadata[i].value : "");
            d->metadata_count = i + 1; /* so free_domain frees exactly what was copied */
            if (d->metadata[i].key == NULL || d->metadata[i].value == NULL) {
                free_domain(d);
                return fail(err, PDK_ERR_INVALID_ARGUMENT, "metadata key is NULL or out of memory");
            }
        }
    }

    pthread_mutex_lock(&conn->lock);
    if (find(conn, d->name) != NULL) {
        pthread_mutex_unlock(&conn->lock);
        const pdk_status s = fail(err, PDK_ERR_ALREADY_EXISTS, "domain '%s' already exists", d->name);
        free_domain(d);
        return s;
    }
    snprintf(d->uuid, sizeof d->uuid, "5a3b1e00-0000-4000-8000-%012x", (unsigned)++conn->next_serial);
    sample_domain** tail = &conn->domains;
    while (*tail != NULL) tail = &(*tail)->next;
    *tail = d;
    pthread_mutex_unlock(&conn->lock);
    return PDK_OK;
}

static pdk_status sample_start_domain(pdk_backend_connection* conn, const char* name, uint32_t flags, pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    sample_domain* d;
    const pdk_status s = lock_domain(conn, name, &d, err);
    if (s != PDK_OK) return s;
    pdk_status result = PDK_OK;
    if (d->state == PDK_DOMAIN_RUNNING) {
        result = fail(err, PDK_ERR_CONFLICT, "domain '%s' is already running", name);
    } else if (d->state == PDK_DOMAIN_PAUSED) {
        d->state = PDK_DOMAIN_RUNNING;
    } else {
        d->state = PDK_DOMAIN_RUNNING;
        d->id = conn->next_id++;
    }
    pthread_mutex_unlock(&conn->lock);
    return result;
}

/* The guest "obeys" ACPI at once: the domain is shut off when this returns. */
static pdk_status sample_shutdown_domain(pdk_backend_connection* conn, const char* name, uint32_t flags,
                                         pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    sample_domain* d;
    const pdk_status s = lock_domain(conn, name, &d, err);
    if (s != PDK_OK) return s;
    pdk_status result = PDK_OK;
    if (d->state != PDK_DOMAIN_RUNNING) {
        result = fail(err, PDK_ERR_CONFLICT, "domain '%s' is not running", name);
    } else {
        d->state = PDK_DOMAIN_SHUTOFF;
        d->id = -1;
    }
    pthread_mutex_unlock(&conn->lock);
    return result;
}

static pdk_status sample_destroy_domain(pdk_backend_connection* conn, const char* name, uint32_t flags,
                                        pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    sample_domain* d;
    const pdk_status s = lock_domain(conn, name, &d, err);
    if (s != PDK_OK) return s;
    pdk_status result = PDK_OK;
    if (d->state != PDK_DOMAIN_RUNNING && d->state != PDK_DOMAIN_PAUSED) {
        result = fail(err, PDK_ERR_CONFLICT, "domain '%s' is not running", name);
    } else {
        d->state = PDK_DOMAIN_SHUTOFF;
        d->id = -1;
    }
    pthread_mutex_unlock(&conn->lock);
    return result;
}

/* PDK_UNDEFINE_REMOVE_STORAGE is accepted: in-memory domains have no volumes to delete. */
static pdk_status sample_undefine_domain(pdk_backend_connection* conn, const char* name, uint32_t flags,
                                         pdk_error* err) {
    if (check_flags(flags, PDK_UNDEFINE_REMOVE_STORAGE, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    sample_domain* d;
    const pdk_status s = lock_domain(conn, name, &d, err);
    if (s != PDK_OK) return s;
    if (d->state == PDK_DOMAIN_RUNNING || d->state == PDK_DOMAIN_PAUSED) {
        pthread_mutex_unlock(&conn->lock);
        return fail(err, PDK_ERR_CONFLICT, "domain '%s' is running; destroy it first", name);
    }
    sample_domain** link = &conn->domains;
    while (*link != d) link = &(*link)->next;
    *link = d->next;
    pthread_mutex_unlock(&conn->lock);
    free_domain(d);
    return PDK_OK;
}

/* ---- the library ------------------------------------------------------------------------ */

/* Library-wide init (ABI 1.1): the host says which ABI it speaks and lends a log callback until
 * the matching deinit. A 1.0 host never calls it, so the backend needs nothing done here; and as
 * the sample keeps no threads or process-wide state, it has no deinit (NULL). */
static pdk_status sample_init(const pdk_host* host_in, uint32_t flags, pdk_error* err) {
    if (check_flags(flags, 0, err) != PDK_OK) return PDK_ERR_BAD_FLAGS;
    pdk_host host; /* our own size; what a newer host added beyond it is left out */
    if (!pdk_copy_in(&host, sizeof host, host_in, PDK_HOST_SIZE_1_1)) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "host is NULL or smaller than ABI 1.1's pdk_host");
    }
    char line[128];
    snprintf(line, sizeof line, "sample backend ready (host speaks ABI %u.%u)", (unsigned)host.abi_major,
             (unsigned)host.abi_minor);
    host.log(host.host_data, PDK_LOG_INFO, line);
    return PDK_OK;
}

/* Entries left NULL (metadata, storage, snapshots, save, ssh, events) are reported by paddockd
 * as "not supported by backend org.paddock.example.c-sample". */
static const pdk_backend_vtable kVtable = {
    .struct_size = sizeof(pdk_backend_vtable),
    .open = sample_open,
    .close = sample_close,
    .is_alive = sample_is_alive,
    .host_info = sample_host_info,
    .list_domains = sample_list_domains,
    .get_domain = sample_get_domain,
    .define_domain = sample_define_domain,
    .start_domain = sample_start_domain,
    .shutdown_domain = sample_shutdown_domain,
    .destroy_domain = sample_destroy_domain,
    .undefine_domain = sample_undefine_domain,
};

static const char* const kCapabilities[] = {"domain.lifecycle", NULL};

static const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.example.c-sample",
    .name = "C sample backend",
    .version = "1.0.0",
    .description = "An in-memory hypervisor written in plain C, to copy from.",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    .init = sample_init, /* deinit and next stay NULL: no threads, one plugin in this library */
};

/* The only exported symbol (everything else is hidden by paddock_add_plugin). */
PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
