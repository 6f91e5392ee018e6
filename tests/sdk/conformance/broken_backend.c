/*
 * Deliberately broken backends for the conformance kit's own test (conformance_broken): the kit
 * must catch every violation and exit 1. One library, two plugins (a descriptor chain, so the
 * test also picks plugins by --id):
 *
 * org.paddock.test.broken
 *  - list_domains accepts unknown flag bits (the ABI: PDK_ERR_BAD_FLAGS before doing anything);
 *  - list_domains keeps its sink and calls it again from the next host_info call, after
 *    list_domains returned (the ABI: sinks run only during the call they were given to).
 * org.paddock.test.broken-structs
 *  - host_info writes its whole pdk_host_info whatever the caller's struct_size says;
 *  - define_domain copies a whole pdk_domain_spec and more, whatever its struct_size says.
 * org.paddock.test.broken-events
 *  - subscribe_events(NULL) returns PDK_OK but keeps the old sink, which the next define_domain
 *    calls (the ABI: once unsubscribing returned, the old sink is never called again).
 * Everything else is correct, so the kit reports these and nothing else.
 */
#include <paddock/pdk_backend.h>
#include <paddock/pdk_struct.h>

#include <stdlib.h>
#include <string.h>

struct pdk_backend_connection {
    pdk_domain_sink kept_sink; /* the violation: kept beyond the call */
    void* kept_user;
    pdk_event_sink event_sink; /* broken-events: never cleared */
    void* event_user;
};

static pdk_status fail(pdk_error* err, pdk_status status, const char* message) {
    return pdk_write_error(err, status, message, strlen(message));
}

static void deliver(pdk_domain_sink sink, void* user) {
    pdk_domain_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    info.name = "broken-1";
    info.uuid = "0b0b0b0b-0000-4000-8000-000000000001";
    info.id = -1;
    info.state = PDK_DOMAIN_SHUTOFF;
    info.vcpus = 1;
    sink(user, &info);
}

static pdk_status broken_open(const char* uri, uint32_t flags, pdk_backend_connection** out, pdk_error* err) {
    (void)uri;
    if (flags != 0) return fail(err, PDK_ERR_BAD_FLAGS, "unknown flags");
    if (out == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = calloc(1, sizeof **out);
    return *out != NULL ? PDK_OK : fail(err, PDK_ERR_INTERNAL, "out of memory");
}

static void broken_close(pdk_backend_connection* conn) { free(conn); }

static pdk_status broken_host_info(pdk_backend_connection* conn, uint32_t flags, pdk_host_info* out, pdk_error* err) {
    if (flags != 0) return fail(err, PDK_ERR_BAD_FLAGS, "unknown flags");
    if (conn->kept_sink != NULL) deliver(conn->kept_sink, conn->kept_user); /* after its call returned */
    pdk_host_info info;
    memset(&info, 0, sizeof info);
    strcpy(info.hypervisor, "Broken");
    strcpy(info.auto_domain_type, "qemu");
    strcpy(info.hostname, "localhost");
    if (!pdk_copy_out(out, &info, sizeof info, PDK_HOST_INFO_SIZE_1_0)) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "out is NULL or too small");
    }
    return PDK_OK;
}

static pdk_status broken_list_domains(pdk_backend_connection* conn, uint32_t flags, pdk_domain_sink sink, void* user,
                                      pdk_error* err) {
    (void)flags; /* the violation: unknown bits are not rejected */
    if (sink == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
    deliver(sink, user);
    conn->kept_sink = sink;
    conn->kept_user = user;
    return PDK_OK;
}

/* The struct violations: no regard for struct_size. */
static pdk_status careless_host_info(pdk_backend_connection* conn, uint32_t flags, pdk_host_info* out,
                                     pdk_error* err) {
    (void)conn;
    if (flags != 0) return fail(err, PDK_ERR_BAD_FLAGS, "unknown flags");
    if (out == NULL || out->struct_size < PDK_HOST_INFO_SIZE_1_0) return fail(err, PDK_ERR_INVALID_ARGUMENT, "out");
    const uint32_t size = out->struct_size;
    memset(out, 0, sizeof *out); /* past a 1.0 host's struct */
    out->struct_size = size;
    strcpy(out->hypervisor, "Careless");
    return PDK_OK;
}

static pdk_status careless_define_domain(pdk_backend_connection* conn, const pdk_domain_spec* spec, uint32_t flags,
                                         pdk_error* err) {
    (void)conn;
    if (flags != 0) return fail(err, PDK_ERR_BAD_FLAGS, "unknown flags");
    if (spec == NULL) return fail(err, PDK_ERR_INVALID_ARGUMENT, "spec is NULL");
    /* Reads past the end of whatever the host handed in (volatile: the reads must happen). */
    const volatile unsigned char* bytes = (const volatile unsigned char*)spec;
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof *spec + 16; ++i) sum += bytes[i];
    if (spec->struct_size < PDK_DOMAIN_SPEC_SIZE_1_0) return fail(err, PDK_ERR_INVALID_ARGUMENT, "spec too small");
    return sum == 0xFFFFFFFFu ? fail(err, PDK_ERR_INTERNAL, "unlikely") : PDK_OK;
}

static const pdk_backend_vtable kCarelessVtable = {
    .struct_size = sizeof(pdk_backend_vtable),
    .open = broken_open,
    .close = broken_close,
    .host_info = careless_host_info,
    .define_domain = careless_define_domain,
};

/* The event violation: unsubscribing keeps the sink. */
static pdk_status deaf_subscribe_events(pdk_backend_connection* conn, pdk_event_sink sink, void* user, uint32_t flags,
                                        pdk_error* err) {
    if (flags != 0) return fail(err, PDK_ERR_BAD_FLAGS, "unknown flags");
    if (sink != NULL) {
        conn->event_sink = sink;
        conn->event_user = user;
    }
    return PDK_OK;
}

static pdk_status eventful_define_domain(pdk_backend_connection* conn, const pdk_domain_spec* spec, uint32_t flags,
                                         pdk_error* err) {
    if (flags != 0) return fail(err, PDK_ERR_BAD_FLAGS, "unknown flags");
    if (spec == NULL || spec->struct_size < PDK_DOMAIN_SPEC_SIZE_1_0 || spec->name == NULL) {
        return fail(err, PDK_ERR_INVALID_ARGUMENT, "bad spec");
    }
    if (conn->event_sink != NULL) conn->event_sink(conn->event_user, spec->name, PDK_EVENT_DEFINED);
    return PDK_OK;
}

static const pdk_backend_vtable kDeafVtable = {
    .struct_size = sizeof(pdk_backend_vtable),
    .open = broken_open,
    .close = broken_close,
    .define_domain = eventful_define_domain,
    .subscribe_events = deaf_subscribe_events,
};

static const pdk_backend_vtable kVtable = {
    .struct_size = sizeof(pdk_backend_vtable),
    .open = broken_open,
    .close = broken_close,
    .host_info = broken_host_info,
    .list_domains = broken_list_domains,
};

static const char* const kCapabilities[] = {NULL};

static const pdk_plugin_descriptor kDeafDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.test.broken-events",
    .name = "Backend that does not unsubscribe",
    .version = "1.0.0",
    .capabilities = kCapabilities,
    .vtable = &kDeafVtable,
};

static const pdk_plugin_descriptor kCarelessDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.test.broken-structs",
    .name = "Backend careless with struct sizes",
    .version = "1.0.0",
    .capabilities = kCapabilities,
    .vtable = &kCarelessVtable,
    .next = &kDeafDescriptor,
};

static const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.test.broken",
    .name = "Broken backend",
    .version = "1.0.0",
    .description = "Violates the backend contract on purpose.",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    .next = &kCarelessDescriptor,
};

PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
