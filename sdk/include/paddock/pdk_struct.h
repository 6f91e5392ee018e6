/*
 * Inline helpers for the struct rules of the Paddock plugin ABI ("structs only grow", see
 * pdk_plugin.h). Not part of the ABI: the functions compile into whoever includes this header,
 * plugin or host. C11 and C++17. They never read or write past either side's struct_size.
 */
#ifndef PADDOCK_PDK_STRUCT_H
#define PADDOCK_PDK_STRUCT_H

#include "pdk_plugin.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The struct_size a struct says it has (read bytewise: `theirs` may be any ABI struct). */
static inline uint32_t pdk_struct_size_of(const void* theirs) {
    uint32_t size;
    memcpy(&size, theirs, sizeof size);
    return size;
}

/*
 * Copies a struct the other side owns into `ours`, a local of our own size: the bytes its
 * struct_size covers, zero beyond them (fields it does not know), and ours.struct_size set to
 * our_size. Returns 0 when `theirs` is NULL or says it is smaller than `min_size`; `ours` is
 * then all zero but for struct_size.
 */
static inline int pdk_copy_in(void* ours, size_t our_size, const void* theirs, size_t min_size) {
    const uint32_t our_struct_size = (uint32_t)our_size;
    int ok = 0;
    memset(ours, 0, our_size);
    if (theirs != NULL && pdk_struct_size_of(theirs) >= min_size) {
        const size_t their_size = pdk_struct_size_of(theirs);
        memcpy(ours, theirs, their_size < our_size ? their_size : our_size);
        ok = 1;
    }
    memcpy(ours, &our_struct_size, sizeof our_struct_size);
    return ok;
}

/*
 * Copies a struct we filled back into the other side's (an output it owns): the bytes its
 * struct_size covers and no more, keeping its struct_size. Returns 0 (writing nothing) when
 * `theirs` is NULL or says it is smaller than `min_size`.
 */
static inline int pdk_copy_out(void* theirs, const void* ours, size_t our_size, size_t min_size) {
    size_t n;
    if (theirs == NULL || pdk_struct_size_of(theirs) < min_size) return 0;
    n = pdk_struct_size_of(theirs);
    if (n > our_size) n = our_size;
    if (n > sizeof(uint32_t)) {
        memcpy((char*)theirs + sizeof(uint32_t), (const char*)ours + sizeof(uint32_t), n - sizeof(uint32_t));
    }
    return 1;
}

/*
 * Writes `status` and the first `length` bytes of `message` into a caller's error record, as
 * far as its struct_size goes: the status when it is covered, then the message truncated to the
 * room there is (at most PDK_ERROR_MESSAGE_MAX - 1 bytes) and NUL-terminated. `err` may be NULL.
 * Returns `status`, so a function can end with `return pdk_write_error(...)`.
 */
static inline pdk_status pdk_write_error(pdk_error* err, pdk_status status, const char* message, size_t length) {
    size_t size;
    if (err == NULL) return status;
    size = err->struct_size;
    if (size >= PDK_FIELD_END(pdk_error, status)) err->status = status;
    if (size > offsetof(pdk_error, message)) {
        size_t room = size - offsetof(pdk_error, message);
        if (room > PDK_ERROR_MESSAGE_MAX) room = PDK_ERROR_MESSAGE_MAX; /* a larger, later pdk_error */
        if (message == NULL) length = 0;
        if (length > room - 1) length = room - 1;
        if (length > 0) memcpy(err->message, message, length);
        err->message[length] = '\0';
    }
    return status;
}

#ifdef __cplusplus
}
#endif

#endif /* PADDOCK_PDK_STRUCT_H */
