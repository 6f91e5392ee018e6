/*
 * Paddock plugin ABI: terminal-session recorders (PDK_PLUGIN_KIND_RECORDER).
 *
 * A recorder turns the byte streams of one terminal session into one stored recording
 * (org.paddock.asciinema writes an asciinema v2 cast). The host opens one pdk_recording per
 * session, feeds it timed events, flushes it about once a second and closes it at the end.
 * Since ABI 1.1 the recorder also lists what it stored and reads it back (list_sessions,
 * read_session), so the host never needs to know the storage format; since 1.3 it reads a range
 * of it (read_session_range), so a download is served piece by piece.
 *
 * Every function:
 *  - returns pdk_status and, when not PDK_OK, fills the caller's `err` (which may be NULL);
 *  - rejects unknown bits in `flags` with PDK_ERR_BAD_FLAGS before doing anything;
 *  - copies every input it needs to keep: input pointers are borrowed for the call only.
 *
 * Threading: open_session may be called from any host thread, concurrently with itself and
 * with calls on other recordings. The calls on one pdk_recording (write_event, flush,
 * close_session) are serialised by the host: never concurrent with each other, though they
 * may come from different threads over the recording's life. Recordings share no state the
 * host can see, so different recordings may be written concurrently. list_sessions and
 * read_session may be called from any thread, concurrently with everything, including the
 * writing of the recording they list or read; their sinks run on the calling thread.
 */
#ifndef PADDOCK_PDK_RECORDER_H
#define PADDOCK_PDK_RECORDER_H

#include "pdk_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque, recorder-owned state of one recording. Freed by `close_session`. */
typedef struct pdk_recording pdk_recording;

/*
 * What to record. Built and owned by the host; borrowed for the duration of `open_session`
 * (the recorder copies what it keeps). Strings are NUL-terminated UTF-8; an optional string
 * may be NULL or empty, meaning "not known".
 */
typedef struct pdk_recording_info {
    uint32_t struct_size;
    uint16_t width;          /* initial terminal columns, > 0 */
    uint16_t height;         /* initial terminal rows, > 0 */
    int64_t start_timestamp; /* unix seconds at the start of the session */
    const char* directory;   /* where recordings are stored; created (0750) when missing. Mandatory. */
    const char* session_id;  /* unique, [A-Za-z0-9_.-]{1,128}, not starting with '.'; names
                                    the stored file (asciinema: <directory>/<session_id>.cast). Mandatory. */
    const char* term;        /* TERM of the session, e.g. "xterm-256color" */
    const char* shell;       /* the login shell, e.g. "/bin/bash" */
    const char* title;       /* human-readable title */
    const char* site;        /* Paddock site of the VM */
    const char* vm;          /* VM name */
    const char* owner;       /* who opened the terminal */
    const char* lease;       /* lease id the VM is held under */
    int32_t record_input;    /* 1: keep 'i' events (keystrokes may hold passwords); 0: drop them */
} pdk_recording_info;
#define PDK_RECORDING_INFO_SIZE_1_0 PDK_FIELD_END(pdk_recording_info, record_input)

/* Event kinds for write_event (asciicast v2 event codes). */
#define PDK_RECORDING_OUTPUT 'o' /* bytes the session printed */
#define PDK_RECORDING_INPUT 'i'  /* bytes the user typed; dropped unless record_input */
#define PDK_RECORDING_RESIZE 'r' /* data is "COLSxROWS", e.g. "120x40" */
#define PDK_RECORDING_MARKER 'm' /* a marker; data is its label (may be empty) */

/*
 * One stored recording as list_sessions reports it (1.1). Produced by the recorder, borrowed by
 * the sink: the struct and its strings are valid only during the sink call. Strings are
 * NUL-terminated UTF-8; optional ones may be NULL or empty, meaning "not known". Whether the
 * session is still being recorded is the host's business, not the recorder's.
 */
typedef struct pdk_session_info {
    uint32_t struct_size;
    const char* session_id; /* as given to open_session; never NULL */
    const char* site;       /* as given in pdk_recording_info */
    const char* vm;
    const char* owner;
    const char* lease;
    int64_t start_timestamp;    /* unix seconds at the start of the session; 0: not known */
    double duration_seconds;    /* time of the last event stored so far */
    uint64_t size_bytes;        /* bytes read_session delivers right now */
    const char* media_type;     /* of those bytes, e.g. "application/x-asciicast"; never NULL */
    const char* format;         /* the storage format, e.g. "asciicast-v2" */
    const char* file_extension; /* for a downloaded copy's name, without the dot, e.g. "cast" */
    const char* location;       /* where it is stored, for operators (e.g. a file path); may be NULL */
} pdk_session_info;
#define PDK_SESSION_INFO_SIZE_1_1 PDK_FIELD_END(pdk_session_info, location)

/* Receives stored recordings one at a time (1.1). Threading: on the list_sessions caller's thread. */
typedef void (*pdk_session_sink)(void* user, const pdk_session_info* info);

/* Receives a recording's bytes in order, `len` > 0 bytes per call, borrowed for the call (1.1).
 * Returns 0 to go on, anything else to stop: read_session then returns PDK_OK at once.
 * Threading: on the read_session caller's thread. */
typedef int (*pdk_bytes_sink)(void* user, const char* data, size_t len);

/* Flags */
#define PDK_RECORDING_REPLACE \
    (1u << 0)                               /* open_session: replace an existing recording of that id
                                                (without it: PDK_ERR_ALREADY_EXISTS) */
#define PDK_RECORDING_EVENT_FLUSH (1u << 0) /* write_event: flush to the file system after this event */
#define PDK_RECORDING_FLUSH_SYNC (1u << 0)  /* flush: also fsync, so the data survives a power loss */

typedef struct pdk_recorder_vtable {
    uint32_t struct_size;

    /* Start a recording. On PDK_OK *out receives a recording the caller frees with
     * `close_session`; the stored recording exists (with its header) before this returns.
     * PDK_ERR_INVALID_ARGUMENT for a missing directory/session_id, a malformed session id or a
     * zero size; PDK_ERR_ALREADY_EXISTS (see PDK_RECORDING_REPLACE); PDK_ERR_UNAVAILABLE when
     * the directory or file cannot be created. Mandatory. */
    pdk_status (*open_session)(const pdk_recording_info* info, uint32_t flags, pdk_recording** out, pdk_error* err);

    /* Finish the recording: write what is still buffered, close the file, free `rec`. Never
     * fails (errors are lost: there is no one left to tell); NULL is ignored. Mandatory. */
    void (*close_session)(pdk_recording* rec);

    /* Append one event. `seconds` is the time since the session started (non-decreasing; a
     * smaller value is clamped to the previous one); `kind` is one of PDK_RECORDING_*; `data`
     * holds `len` arbitrary bytes (need not be valid UTF-8 nor NUL-terminated; NULL when len is
     * 0). A multi-byte UTF-8 character split across two calls of the same kind is kept whole;
     * invalid bytes are stored as U+FFFD. The recorder flushes by itself at least once per
     * second of `seconds`. PDK_ERR_INVALID_ARGUMENT for an unknown kind or a malformed resize.
     * Mandatory. */
    pdk_status (*write_event)(pdk_recording* rec, double seconds, char kind, const char* data, size_t len,
                              uint32_t flags, pdk_error* err);

    /* Hand everything written so far to the file system, so that a crash of the host loses
     * nothing before this call. The host calls it about once a second from a timer. NULL: the
     * recorder writes through and needs no flushing. */
    pdk_status (*flush)(pdk_recording* rec, uint32_t flags, pdk_error* err);

    /* ABI 1.1 */

    /* The recordings stored in `directory` (the one given to open_session), one sink call each,
     * in no particular order; with `session_id` non-NULL only that one, or PDK_ERR_NOT_FOUND.
     * A recording being written is listed with what has been flushed so far. A directory that
     * does not exist lists nothing. PDK_ERR_INVALID_ARGUMENT for a NULL or empty directory, a
     * NULL sink or a malformed session_id (the rule of pdk_recording_info.session_id: the host
     * checks it too). NULL: the recorder cannot list. */
    pdk_status (*list_sessions)(const char* directory, const char* session_id, uint32_t flags, pdk_session_sink sink,
                                void* user, pdk_error* err);

    /* The stored bytes of one recording, in order, through `sink` in chunks of the recorder's
     * choosing, so the caller never needs to hold all of it; a recording being written
     * delivers what has been flushed so far. PDK_ERR_NOT_FOUND when it is not stored there;
     * PDK_ERR_INVALID_ARGUMENT as for list_sessions (session_id is mandatory here);
     * PDK_ERR_UNAVAILABLE when the storage cannot be read. NULL: the recorder cannot read back. */
    pdk_status (*read_session)(const char* directory, const char* session_id, uint32_t flags, pdk_bytes_sink sink,
                               void* user, pdk_error* err);

    /* ABI 1.3 */

    /* Like read_session, but only the stored bytes from `offset` on, at most `max_bytes` of them
     * (0: up to the end), so a host can serve a long recording piece by piece, one short call
     * per piece, without holding a thread or the whole recording. An offset at or beyond what is
     * stored delivers nothing and returns PDK_OK (a recording being written may still grow).
     * Errors as read_session. Threading as read_session. NULL: the host reads ranges through
     * read_session, skipping what comes before `offset` (slower for long recordings). */
    pdk_status (*read_session_range)(const char* directory, const char* session_id, uint64_t offset, uint64_t max_bytes,
                                     uint32_t flags, pdk_bytes_sink sink, void* user, pdk_error* err);
} pdk_recorder_vtable;
#define PDK_RECORDER_VTABLE_SIZE_1_0 PDK_FIELD_END(pdk_recorder_vtable, flush)
#define PDK_RECORDER_VTABLE_SIZE_1_1 PDK_FIELD_END(pdk_recorder_vtable, read_session)
#define PDK_RECORDER_VTABLE_SIZE_1_3 PDK_FIELD_END(pdk_recorder_vtable, read_session_range)

#ifdef __cplusplus
}
#endif

#endif /* PADDOCK_PDK_RECORDER_H */
