/*
 * A host that only knows ABI 1.0: plain C, with its own frozen copies of the 1.0 structs (under
 * other names, checked against the golden 1.0 layout) and no Paddock header at all. It loads
 * plugins built against 1.1 the way a paddockd 1.0 did (dlopen, pdk_plugin_entry, the 1.0 part
 * of the descriptor, never init/deinit) and calls them with 1.0-sized structs placed between
 * guard bytes, checking that nothing is written past a struct, that outputs are filled and that
 * error messages arrive, truncated to the room a shorter pdk_error has.
 *
 * usage: paddock_sdk_host_v1_0 HELPER_BACKEND.so LIBVIRT_QEMU.so
 * Exit 0 when every check passed. Run by ctest: sdk_compat_v1_0.
 */
#include "../abi_golden.h"

#include <dlfcn.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- ABI 1.0, frozen (what a 1.0 host was compiled with) -------------------------------- */

typedef int32_t v10_status; /* a C enum: int-sized */
enum { V10_OK = 0, V10_ERR_INVALID_ARGUMENT = 1, V10_ERR_NOT_FOUND = 2, V10_ERR_CONFLICT = 4 };
enum { V10_KIND_BACKEND = 1, V10_NETWORK_USER = 1, V10_DOMAIN_SHUTOFF = 5 };

typedef struct {
    uint32_t struct_size;
    v10_status status;
    char message[1024];
} v10_pdk_error;
typedef struct {
    const char* key;
    const char* value;
} v10_pdk_kv;
typedef struct {
    uint32_t struct_size;
    uint16_t abi_major, abi_minor;
    int32_t kind;
    const char* id;
    const char* name;
    const char* version;
    const char* description;
    const char* const* capabilities;
    const void* vtable;
} v10_pdk_plugin_descriptor;
typedef struct {
    uint32_t struct_size;
    const char* name;
    const char* uuid;
    int32_t id;
    int32_t state;
    uint64_t max_memory_kib, memory_kib;
    uint32_t vcpus;
    uint64_t cpu_time_ns;
    int32_t has_managed_save;
    const v10_pdk_kv* metadata;
    size_t metadata_count;
} v10_pdk_domain_info;
typedef struct {
    uint32_t struct_size;
    const char* name;
    uint32_t vcpus;
    uint64_t memory_mib;
    const char* domain_type;
    const char* disk_path;
    const char* disk_format;
    const char* kernel_path;
    const char* initrd_path;
    const char* kernel_cmdline;
    int32_t network_mode;
    const char* network_name;
    uint16_t ssh_forward_port;
    const v10_pdk_kv* metadata;
    size_t metadata_count;
} v10_pdk_domain_spec;
typedef struct {
    uint32_t struct_size;
    const char* pool;
    const char* name;
    const char* backing_path;
    const char* backing_format;
    uint64_t capacity_bytes;
} v10_pdk_volume_spec;
typedef struct {
    uint32_t struct_size;
    char host[256];
    uint16_t port;
} v10_pdk_ssh_target;
typedef struct {
    uint32_t struct_size;
    char hypervisor[64];
    char auto_domain_type[16];
    char hostname[256];
    uint64_t library_version;
} v10_pdk_host_info;

typedef struct v10_conn v10_conn;
typedef void (*v10_domain_sink)(void* user, const v10_pdk_domain_info* info);
typedef void (*v10_fn)(void);
typedef struct {
    uint32_t struct_size;
    v10_status (*open)(const char* uri, uint32_t flags, v10_conn** out, v10_pdk_error* err);
    void (*close)(v10_conn* conn);
    int (*is_alive)(v10_conn* conn);
    v10_status (*host_info)(v10_conn* conn, uint32_t flags, v10_pdk_host_info* out, v10_pdk_error* err);
    v10_status (*list_domains)(v10_conn* conn, uint32_t flags, v10_domain_sink sink, void* user, v10_pdk_error* err);
    v10_status (*get_domain)(v10_conn* conn, const char* name, uint32_t flags, v10_domain_sink sink, void* user,
                             v10_pdk_error* err);
    v10_status (*define_domain)(v10_conn* conn, const v10_pdk_domain_spec* spec, uint32_t flags, v10_pdk_error* err);
    v10_status (*start_domain)(v10_conn* conn, const char* name, uint32_t flags, v10_pdk_error* err);
    v10_fn shutdown_domain, destroy_domain;
    v10_status (*undefine_domain)(v10_conn* conn, const char* name, uint32_t flags, v10_pdk_error* err);
    v10_fn get_metadata, set_metadata;
    v10_status (*create_overlay)(v10_conn* conn, const v10_pdk_volume_spec* spec, uint32_t flags, char* path_out,
                                 size_t path_capacity, v10_pdk_error* err);
    v10_fn delete_volume, snapshot_create, snapshot_list, snapshot_revert, snapshot_delete, save_domain;
    v10_status (*ssh_target)(v10_conn* conn, const char* name, uint32_t flags, v10_pdk_ssh_target* out,
                             v10_pdk_error* err);
    v10_fn subscribe_events;
} v10_pdk_backend_vtable;
typedef struct {
    uint32_t struct_size;
    uint16_t width, height;
    int64_t start_timestamp;
    const char *directory, *session_id, *term, *shell, *title, *site, *vm, *owner, *lease;
    int32_t record_input;
} v10_pdk_recording_info;
typedef struct {
    uint32_t struct_size;
    v10_fn open_session, close_session, write_event, flush;
} v10_pdk_recorder_vtable;

/* The frozen copies are the 1.0 ABI, byte for byte. */
#define V10_FIELD(t, f, offset, size) \
    _Static_assert(offsetof(v10_##t, f) == (offset) && sizeof(((v10_##t*)0)->f) == (size), #t "." #f);
PDK_GOLDEN_FIELDS_1_0(V10_FIELD)
#define V10_SIZE(t, size) _Static_assert(sizeof(v10_##t) == (size), "sizeof " #t);
PDK_GOLDEN_SIZES_1_0(V10_SIZE)

/* ---- checks ------------------------------------------------------------------------------ */

static int failures = 0;

static void check(int ok, const char* what) {
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

/* Host memory around a struct: GUARD bytes of 0xA5 on both sides of `size` bytes. */
#define GUARD 64
typedef struct {
    unsigned char bytes[GUARD + 2048 + GUARD];
    size_t size;
} guarded;

static void* guarded_init(guarded* g, size_t size) {
    memset(g->bytes, 0xA5, sizeof g->bytes);
    memset(g->bytes + GUARD, 0, size);
    g->size = size;
    return g->bytes + GUARD;
}

static int guards_intact(const guarded* g) {
    for (size_t i = 0; i < sizeof g->bytes; ++i) {
        if ((i < GUARD || i >= GUARD + g->size) && g->bytes[i] != 0xA5) return 0;
    }
    return 1;
}

/* A pdk_error the host allots `size` bytes for (1.0 hosts could pass less than sizeof). */
static v10_pdk_error* error_of(guarded* g, size_t size) {
    v10_pdk_error* err = guarded_init(g, size);
    memcpy(err, &(uint32_t){(uint32_t)size}, sizeof(uint32_t));
    return err;
}

typedef struct {
    char name[64];
    uint32_t vcpus;
    uint64_t max_memory_kib;
    char meta[128];
    int calls;
} seen_domain;

static void collect_domain(void* user, const v10_pdk_domain_info* info) {
    seen_domain* s = user;
    ++s->calls;
    snprintf(s->name, sizeof s->name, "%s", info->name);
    s->vcpus = info->vcpus;
    s->max_memory_kib = info->max_memory_kib;
    s->meta[0] = '\0';
    for (size_t i = 0; i < info->metadata_count; ++i) {
        snprintf(s->meta + strlen(s->meta), sizeof s->meta - strlen(s->meta), "%s=%s;", info->metadata[i].key,
                 info->metadata[i].value);
    }
}

static const v10_pdk_backend_vtable* load(const char* path, void** handle, const char* expected_id) {
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (*handle == NULL) {
        printf("FAIL: dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    typedef const v10_pdk_plugin_descriptor* (*entry_fn)(void);
    entry_fn entry;
    *(void**)&entry = dlsym(*handle, "pdk_plugin_entry");
    check(entry != NULL, "the plugin exports pdk_plugin_entry");
    if (entry == NULL) exit(1);
    const v10_pdk_plugin_descriptor* d = entry();
    /* What a 1.0 host checked: major 1, a descriptor at least 1.0-sized, a backend vtable. */
    check(d != NULL && d->abi_major == 1 && d->struct_size >= sizeof(v10_pdk_plugin_descriptor),
          "its descriptor is a valid 1.x descriptor for a 1.0 host");
    check(d->abi_minor >= 1, "it was built against ABI 1.1 or later");
    check(d->kind == V10_KIND_BACKEND && strcmp(d->id, expected_id) == 0, "the entry plugin is the expected backend");
    const v10_pdk_backend_vtable* vt = d->vtable;
    check(vt != NULL && vt->struct_size >= sizeof(v10_pdk_backend_vtable) && vt->open != NULL && vt->close != NULL,
          "its vtable covers every 1.0 entry");
    return vt;
}

/* Error records of decreasing size: full, 8 + 16 (15 characters and the NUL), status only, none. */
static void check_errors(const char* plugin, v10_status (*call)(void* ctx, v10_pdk_error* err), void* ctx,
                         v10_status expected, const char* message_start) {
    char what[256];
    guarded g;

    v10_pdk_error* full = error_of(&g, sizeof(v10_pdk_error));
    v10_status st = call(ctx, full);
    snprintf(what, sizeof what, "%s: a 1.0 pdk_error gets status %d and the message \"%s...\"", plugin, (int)expected,
             message_start);
    check(st == expected && full->status == expected &&
              strncmp(full->message, message_start, strlen(message_start)) == 0 && guards_intact(&g),
          what);

    v10_pdk_error* small = error_of(&g, 8 + 16);
    st = call(ctx, small);
    snprintf(what, sizeof what, "%s: a 24-byte pdk_error gets the status and the message cut to 15 bytes", plugin);
    check(st == expected && small->status == expected && strlen(small->message) == 15 &&
              strncmp(small->message, message_start, strlen(message_start) < 15 ? strlen(message_start) : 15) == 0 &&
              guards_intact(&g),
          what);

    v10_pdk_error* status_only = error_of(&g, 8);
    st = call(ctx, status_only);
    snprintf(what, sizeof what, "%s: an 8-byte pdk_error gets the status only", plugin);
    check(st == expected && status_only->status == expected && guards_intact(&g), what);

    v10_pdk_error* none = error_of(&g, 4);
    st = call(ctx, none);
    snprintf(what, sizeof what, "%s: a 4-byte pdk_error gets nothing", plugin);
    check(st == expected && guards_intact(&g), what);
}

typedef struct {
    const v10_pdk_backend_vtable* vt;
    v10_conn* conn;
    const char* name;
} call_ctx;

static v10_status start_missing(void* p, v10_pdk_error* err) {
    call_ctx* c = p;
    return c->vt->start_domain(c->conn, c->name, 0, err);
}

static v10_status get_missing(void* p, v10_pdk_error* err) {
    call_ctx* c = p;
    seen_domain seen = {0};
    return c->vt->get_domain(c->conn, c->name, 0, collect_domain, &seen, err);
}

static void check_host_info(const char* plugin, const v10_pdk_backend_vtable* vt, v10_conn* conn,
                            const char* hypervisor) {
    char what[256];
    guarded g;
    v10_pdk_host_info* info = guarded_init(&g, sizeof *info);
    info->struct_size = sizeof *info;
    guarded eg;
    v10_status st = vt->host_info(conn, 0, info, error_of(&eg, sizeof(v10_pdk_error)));
    snprintf(what, sizeof what, "%s: host_info fills a 1.0 pdk_host_info (\"%s\") and writes nothing past it", plugin,
             hypervisor);
    check(st == V10_OK && strcmp(info->hypervisor, hypervisor) == 0 && info->hostname[0] != '\0' &&
              info->library_version > 0 && info->struct_size == sizeof *info && guards_intact(&g),
          what);
}

static void check_define_and_ssh(const char* plugin, const v10_pdk_backend_vtable* vt, v10_conn* conn,
                                 const char* domain) {
    char what[256];
    guarded g, eg;
    const v10_pdk_kv meta[] = {{"owner", "compat"}};
    v10_pdk_domain_spec* spec = guarded_init(&g, sizeof *spec);
    spec->struct_size = sizeof *spec;
    spec->name = domain;
    spec->vcpus = 2;
    spec->memory_mib = 128;
    spec->network_mode = V10_NETWORK_USER;
    spec->ssh_forward_port = 40777;
    spec->metadata = meta;
    spec->metadata_count = 1;
    v10_pdk_error* err = error_of(&eg, sizeof(v10_pdk_error));
    v10_status st = vt->define_domain(conn, spec, 0, err);
    snprintf(what, sizeof what, "%s: define_domain takes a 1.0 pdk_domain_spec", plugin);
    check(st == V10_OK && guards_intact(&g), what);
    if (st != V10_OK) printf("      %s\n", err->message);

    seen_domain seen = {0};
    st = vt->get_domain(conn, domain, 0, collect_domain, &seen, err);
    snprintf(what, sizeof what, "%s: get_domain reports it through a 1.0 pdk_domain_info", plugin);
    check(st == V10_OK && seen.calls == 1 && strcmp(seen.name, domain) == 0 && seen.vcpus == 2 &&
              seen.max_memory_kib == 128 * 1024 && strstr(seen.meta, "owner=compat;") != NULL,
          what);

    guarded tg;
    v10_pdk_ssh_target* target = guarded_init(&tg, sizeof *target);
    target->struct_size = sizeof *target;
    st = vt->ssh_target(conn, domain, 0, target, err);
    snprintf(what, sizeof what, "%s: ssh_target fills a 1.0 pdk_ssh_target and writes nothing past it", plugin);
    check(st == V10_OK && strcmp(target->host, "127.0.0.1") == 0 && target->port == 40777 && guards_intact(&tg), what);
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s HELPER_BACKEND.so LIBVIRT_QEMU.so\n", argv[0]);
        return 2;
    }
    guarded eg;

    /* (a) A backend written with the 1.1 C++ helper. */
    void* helper_handle;
    const v10_pdk_backend_vtable* hv = load(argv[1], &helper_handle, "org.paddock.test.compat-1-1");
    v10_conn* hc = NULL;
    check(hv->open("compat://", 0, &hc, error_of(&eg, sizeof(v10_pdk_error))) == V10_OK && hc != NULL, "helper: open");
    check_host_info("helper", hv, hc, "Compat");
    check_define_and_ssh("helper", hv, hc, "compat-vm");
    {
        guarded g;
        v10_pdk_volume_spec* v = guarded_init(&g, sizeof *v);
        v->struct_size = sizeof *v;
        v->pool = "p";
        v->name = "vm.qcow2";
        v->backing_path = "/base.qcow2";
        v->backing_format = "qcow2";
        v->capacity_bytes = 42;
        char path[128] = "";
        check(hv->create_overlay(hc, v, 0, path, sizeof path, error_of(&eg, sizeof(v10_pdk_error))) == V10_OK &&
                  strcmp(path, "/pool/p/vm.qcow2@42") == 0 && guards_intact(&g),
              "helper: create_overlay takes a 1.0 pdk_volume_spec");
    }
    call_ctx missing = {hv, hc, "nobody-here"};
    check_errors("helper", start_missing, &missing, V10_ERR_NOT_FOUND, "domain 'nobody-here' does not exist");
    {
        call_ctx long_message = {hv, hc, "long"};
        v10_pdk_error* err = error_of(&eg, sizeof(v10_pdk_error));
        check(
            start_missing(&long_message, err) == V10_ERR_CONFLICT && strlen(err->message) == 1023 && guards_intact(&eg),
            "helper: a long message is cut to a 1.0 pdk_error's 1023 bytes");
    }
    {
        guarded g;
        v10_pdk_domain_spec* short_spec = guarded_init(&g, 8);
        short_spec->struct_size = 8;
        v10_pdk_error* err = error_of(&eg, sizeof(v10_pdk_error));
        check(hv->define_domain(hc, short_spec, 0, err) == V10_ERR_INVALID_ARGUMENT &&
                  strstr(err->message, "struct_size 8") != NULL,
              "helper: a spec smaller than ABI 1.0's is refused with a message");
    }
    hv->close(hc);
    dlclose(helper_handle);

    /* (b) The real libvirt-qemu plugin on libvirt's test driver. */
    void* lv_handle;
    const v10_pdk_backend_vtable* lv = load(argv[2], &lv_handle, "org.paddock.libvirt-qemu");
    v10_conn* lc = NULL;
    v10_pdk_error* err = error_of(&eg, sizeof(v10_pdk_error));
    const v10_status opened = lv->open("test:///default", 0, &lc, err);
    check(opened == V10_OK && lc != NULL, "libvirt-qemu: open test:///default without init (a 1.0 host)");
    if (opened != V10_OK) {
        printf("      %s\n", err->message);
        return 1;
    }
    check_host_info("libvirt-qemu", lv, lc, "TEST");
    check_define_and_ssh("libvirt-qemu", lv, lc, "pdk-compat-v10");
    call_ctx lmissing = {lv, lc, "pdk-compat-missing"};
    check_errors("libvirt-qemu", get_missing, &lmissing, V10_ERR_NOT_FOUND, "domain 'pdk-compat-missing'");
    check(lv->undefine_domain(lc, "pdk-compat-v10", 0, error_of(&eg, sizeof(v10_pdk_error))) == V10_OK,
          "libvirt-qemu: undefine_domain");
    lv->close(lc);

    /* A 1.0 host never calls deinit: the plugin must have pinned itself, since its event-loop
     * thread keeps running after dlclose. */
    dlclose(lv_handle);
    void* still = dlopen(argv[2], RTLD_NOW | RTLD_NOLOAD);
    check(still != NULL, "libvirt-qemu: stays mapped after dlclose under a 1.0 host (its loop thread runs on)");
    usleep(200 * 1000); /* the loop thread keeps running in the mapped library */

    printf("%s\n", failures == 0 ? "all checks passed" : "SOME CHECKS FAILED");
    return failures == 0 ? 0 : 1;
}
