// Batched UDP I/O for the relay path: recvmmsg into one preallocated buffer shared with JS
// (one JS callback per batch) and sendmmsg of a queue JS fills, with iovecs pointing straight
// into the shared buffers. No per-datagram JS objects in either direction. All protocol logic
// stays in TypeScript; this file only moves bytes.
//
// Memory: the four buffers are ordinary JS ArrayBuffers (napi_create_arraybuffer) kept alive by
// references held by the batch, so they stay valid as long as either the batch or JS holds them.
// Lifetime: the batch (napi_wrap'ed on its handle object) is freed when the handle is finalized,
// no socket close is pending and the environment cleanup hook has been removed. While any
// socket is watched the handle is strongly referenced (like a Node handle keeps its object).
// Environment teardown (a worker exiting with sockets still watched) closes the poll handles
// through an async cleanup hook, so the thread's loop closes cleanly.
#define NAPI_VERSION 8
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>
#include "sb_napi.h"
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define META_WORDS 4
#define OP_WORDS 7
#define FLAG_SEND_AREA 1
#define FLAG_HEADER 2
#define FLAG_PAD4 4
#define MAX_ROUNDS 8
#define MAX_VLEN 1024 /* UIO_MAXIOV: the kernel caps recvmmsg/sendmmsg vlen here */
#define MAX_SOCK_ID (1 << 24)
#define MAX_SLOTS 65536
#define MAX_SLOT_SIZE 65536

typedef struct batch batch;

typedef struct sock {
  uv_poll_t poll;
  int fd;
  int32_t id;
  batch* b;
} sock;

struct batch {
  napi_env env;
  uint32_t slots, slot_size, send_slots;
  // Shared memory (owned by the ArrayBuffers below).
  uint8_t* recv_data;
  int32_t* recv_meta;
  int32_t* send_queue;
  uint8_t* send_data;
  size_t recv_bytes, send_bytes;
  napi_ref recv_data_ref, recv_meta_ref, send_queue_ref, send_data_ref;
  // recvmmsg state: one mmsghdr/iovec/sockaddr per slot.
  struct mmsghdr* rmsgs;
  struct iovec* riov;
  struct sockaddr_in* raddr;
  // sendmmsg state: per op up to 3 iovecs, a destination and the header bytes.
  struct mmsghdr* smsgs;
  struct iovec* siov;
  struct sockaddr_in* saddr;
  uint8_t* shdr;
  // Callback.
  napi_ref cb_ref;
  napi_ref self_ref; // weak normally, strong while any socket is watched
  napi_async_context actx;
  // sockId -> sock*
  sock** table;
  uint32_t table_cap;
  uint32_t watched;
  // Lifetime.
  napi_async_cleanup_hook_handle hook;
  int closed, finalized, in_cleanup;
  int pending_closes;
  int busy;
  // Stats.
  uint64_t received, sent, dropped_truncated, dropped_send, batches;
};

static const uint8_t zeros[4] = {0, 0, 0, 0};

// ---------- helpers ----------

/** A coded Error (sb_napi.h's make_error) with Node's `syscall` and negative `errno` when given. */
static napi_value throw_code_sys(napi_env env, const char* code, const char* msg, const char* syscall, int err) {
  napi_value e = make_error(env, code, msg);
  if (syscall) {
    napi_value s;
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, e, "syscall", s);
  }
  if (err) {
    napi_value n;
    napi_create_int32(env, -err, &n); // Node convention: errno is negative
    napi_set_named_property(env, e, "errno", n);
  }
  napi_throw(env, e);
  return NULL;
}

// Error for a failed system call: code 'SB_ERR_UDP', or the errno name (EADDRINUSE, ...) when
// use_errno_name is set, so callers can tell "port taken" from other failures.
static napi_value throw_sys(napi_env env, const char* syscall, int err, int use_errno_name) {
  char msg[200];
  const char* name = uv_err_name(-err);
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), name);
  return throw_code_sys(env, use_errno_name && strncmp(name, "Unknown", 7) != 0 ? name : "SB_ERR_UDP", msg, syscall, err);
}

static batch* get_batch(napi_env env, napi_value v) {
  void* p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a netio batch handle");
    return NULL;
  }
  return (batch*)p;
}

static void free_batch(batch* b) {
  free(b->rmsgs);
  free(b->riov);
  free(b->raddr);
  free(b->smsgs);
  free(b->siov);
  free(b->saddr);
  free(b->shdr);
  free(b->table);
  free(b);
}

// Frees the batch once nothing can reach it any more; returns 1 if it did.
static int maybe_finish(batch* b) {
  if ((b->finalized || b->in_cleanup) && b->pending_closes == 0 && b->hook != NULL) {
    napi_remove_async_cleanup_hook(b->hook);
    b->hook = NULL;
  }
  if (b->finalized && b->pending_closes == 0 && b->hook == NULL && b->busy == 0) {
    free_batch(b);
    return 1;
  }
  return 0;
}

static void on_sock_closed(uv_handle_t* h) {
  sock* s = (sock*)h->data;
  batch* b = s->b;
  if (s->fd >= 0) close(s->fd);
  free(s);
  b->pending_closes--;
  maybe_finish(b);
}

static sock* lookup(batch* b, int32_t id) {
  if (id < 0 || (uint32_t)id >= b->table_cap) return NULL;
  return b->table[id];
}

// Stops polling one socket and closes it (the fd is closed in the close callback, after
// libuv has forgotten it).
static void drop_sock(batch* b, int32_t id) {
  sock* s = lookup(b, id);
  if (s == NULL) return;
  b->table[id] = NULL;
  uv_poll_stop(&s->poll);
  b->pending_closes++;
  uv_close((uv_handle_t*)&s->poll, on_sock_closed);
  b->watched--;
  if (b->watched == 0 && !b->in_cleanup && !b->finalized && b->self_ref != NULL) {
    uint32_t rc;
    napi_reference_unref(b->env, b->self_ref, &rc);
  }
}

static void close_all(batch* b) {
  for (uint32_t i = 0; i < b->table_cap; i++)
    if (b->table[i] != NULL) drop_sock(b, (int32_t)i);
}

static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  (void)handle;
  batch* b = (batch*)arg;
  b->in_cleanup = 1;
  b->closed = 1;
  close_all(b);
  maybe_finish(b);
}

static void finalize_batch(napi_env env, void* data, void* hint) {
  (void)hint;
  batch* b = (batch*)data;
  b->closed = 1;
  b->finalized = 1; // before close_all: no reference juggling on a dying handle
  close_all(b);
  napi_delete_reference(env, b->recv_data_ref);
  napi_delete_reference(env, b->recv_meta_ref);
  napi_delete_reference(env, b->send_queue_ref);
  napi_delete_reference(env, b->send_data_ref);
  napi_delete_reference(env, b->cb_ref);
  napi_delete_reference(env, b->self_ref);
  b->self_ref = NULL;
  if (b->actx != NULL) napi_async_destroy(env, b->actx);
  b->actx = NULL;
  maybe_finish(b);
}

// ---------- receive ----------

static void deliver(batch* b, uint32_t count) {
  napi_env env = b->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  if (napi_get_reference_value(env, b->cb_ref, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &global) == napi_ok && napi_create_uint32(env, count, &arg) == napi_ok) {
    napi_status st = napi_make_callback(env, b->actx, global, cb, 1, &arg, &result);
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t* h, int status, int events) {
  (void)events;
  sock* s = (sock*)h->data;
  batch* b = s->b;
  if (status < 0) return;
  uint32_t vlen = b->slots < MAX_VLEN ? b->slots : MAX_VLEN;
  b->busy++;
  for (int round = 0; round < MAX_ROUNDS; round++) {
    if (b->closed || lookup(b, s->id) != s) break; // unwatched/closed from the callback
    for (uint32_t i = 0; i < vlen; i++) {
      b->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
      b->rmsgs[i].msg_hdr.msg_flags = 0;
      b->rmsgs[i].msg_len = 0;
    }
    int n = recvmmsg(s->fd, b->rmsgs, vlen, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Transient errors (ECONNREFUSED from an ICMP error, EINTR, ENOMEM, ...) consume
      // the error; try again within the round budget.
      continue;
    }
    if (n == 0) break;
    uint32_t out = 0;
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
      struct mmsghdr* m = &b->rmsgs[i];
      if (m->msg_hdr.msg_flags & MSG_TRUNC) {
        b->dropped_truncated++;
        continue;
      }
      uint32_t len = m->msg_len;
      if (out != i) memmove(b->recv_data + (size_t)out * b->slot_size, b->recv_data + (size_t)i * b->slot_size, len);
      int32_t* meta = b->recv_meta + (size_t)out * META_WORDS;
      meta[0] = s->id;
      meta[1] = (int32_t)ntohl(b->raddr[i].sin_addr.s_addr);
      meta[2] = ntohs(b->raddr[i].sin_port);
      meta[3] = (int32_t)len;
      out++;
    }
    if (out > 0) {
      b->received += out;
      b->batches++;
      deliver(b, out);
    }
    if ((uint32_t)n < vlen) break;
  }
  b->busy--;
  maybe_finish(b);
}

// ---------- exported functions ----------

// openSocket(type: 'udp'|'tcp', address, port, reusePort, backlog) -> fd: a bound, non-blocking,
// close-on-exec socket (listening, for TCP). With reusePort, SO_REUSEPORT lets several threads
// bind the same port and Linux spreads flows between them by their 4-tuple.
static napi_value js_open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char type[8] = {0}, addr[64] = {0};
  size_t len;
  int32_t port = 0, backlog = 511;
  bool reuse = false;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], type, sizeof type, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], addr, sizeof addr, &len) != napi_ok || !get_i32(env, argv[2], &port) ||
      (strcmp(type, "udp") != 0 && strcmp(type, "tcp") != 0)) {
    napi_throw_type_error(env, NULL, "openSocket(type: 'udp'|'tcp', address: string, port: number, reusePort?: boolean, backlog?: number)");
    return NULL;
  }
  if (argc > 3) napi_get_value_bool(env, argv[3], &reuse);
  if (argc > 4) get_i32(env, argv[4], &backlog);
  if (port < 0 || port > 65535) {
    napi_throw_range_error(env, NULL, "port must be 0..65535");
    return NULL;
  }
  int tcp = strcmp(type, "tcp") == 0;
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in* v4 = (struct sockaddr_in*)&ss;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)&ss;
  int family;
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    family = AF_INET;
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    sslen = sizeof *v4;
  } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    sslen = sizeof *v6;
  } else {
    return throw_code(env, "SB_ERR_UDP", "not an IP address");
  }
  int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_sys(env, "socket", errno, 0);
  int one = 1;
  if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
      ((reuse || tcp) && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)) {
    int e = errno;
    close(fd);
    return throw_sys(env, "setsockopt", e, 0);
  }
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr*)&ss, sslen) < 0) {
    int e = errno;
    close(fd);
    return throw_sys(env, "bind", e, 1);
  }
  if (tcp && listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return throw_sys(env, "listen", e, 1);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

// localPort(fd) -> port
static napi_value js_local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || !get_i32(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "localPort(fd: number)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr*)&ss, &sl) < 0) return throw_sys(env, "getsockname", errno, 0);
  int port = 0;
  if (ss.ss_family == AF_INET) port = ntohs(((struct sockaddr_in*)&ss)->sin_port);
  else if (ss.ss_family == AF_INET6) port = ntohs(((struct sockaddr_in6*)&ss)->sin6_port);
  napi_value out;
  napi_create_int32(env, port, &out);
  return out;
}

// setBuffers(fd, rcv, snd): 0 leaves one as it is; errors are ignored.
static napi_value js_set_buffers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1, rcv = 0, snd = 0;
  if (argc > 0) get_i32(env, argv[0], &fd);
  if (argc > 1) get_i32(env, argv[1], &rcv);
  if (argc > 2) get_i32(env, argv[2], &snd);
  if (fd >= 0 && rcv > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (fd >= 0 && snd > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  return NULL;
}

static int make_buffer(napi_env env, size_t bytes, void** data, napi_ref* ref) {
  napi_value ab;
  if (napi_create_arraybuffer(env, bytes, data, &ab) != napi_ok) return 0;
  memset(*data, 0, bytes);
  return napi_create_reference(env, ab, 1, ref) == napi_ok;
}

// createBatch(slots, slotSize, sendSlots, onBatch) -> handle
static napi_value js_create_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t slots = 0, slot_size = 0, send_slots = 0;
  napi_valuetype t = napi_undefined;
  if (argc < 4 || !get_i32(env, argv[0], &slots) || !get_i32(env, argv[1], &slot_size) ||
      !get_i32(env, argv[2], &send_slots) || napi_typeof(env, argv[3], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "createBatch(slots: number, slotSize: number, sendSlots: number, onBatch: function)");
    return NULL;
  }
  if (slots < 1 || slots > MAX_SLOTS || send_slots < 1 || send_slots > MAX_SLOTS || slot_size < 1 ||
      slot_size > MAX_SLOT_SIZE) {
    napi_throw_range_error(env, NULL, "slots and sendSlots must be 1..65536, slotSize 1..65536");
    return NULL;
  }
  batch* b = (batch*)calloc(1, sizeof *b);
  if (b == NULL) return throw_sys(env, "calloc", ENOMEM, 0);
  b->env = env;
  b->slots = (uint32_t)slots;
  b->slot_size = (uint32_t)slot_size;
  b->send_slots = (uint32_t)send_slots;
  b->recv_bytes = (size_t)slots * (size_t)slot_size;
  b->send_bytes = (size_t)send_slots * (size_t)slot_size;
  b->rmsgs = calloc(slots, sizeof *b->rmsgs);
  b->riov = calloc(slots, sizeof *b->riov);
  b->raddr = calloc(slots, sizeof *b->raddr);
  b->smsgs = calloc(send_slots, sizeof *b->smsgs);
  b->siov = calloc((size_t)send_slots * 3, sizeof *b->siov);
  b->saddr = calloc(send_slots, sizeof *b->saddr);
  b->shdr = calloc((size_t)send_slots * 4, 1);
  if (!b->rmsgs || !b->riov || !b->raddr || !b->smsgs || !b->siov || !b->saddr || !b->shdr) {
    free_batch(b);
    return throw_sys(env, "calloc", ENOMEM, 0);
  }
  void* p;
  int ok = make_buffer(env, b->recv_bytes, &p, &b->recv_data_ref);
  b->recv_data = p;
  ok = ok && make_buffer(env, (size_t)slots * META_WORDS * 4, &p, &b->recv_meta_ref);
  b->recv_meta = p;
  ok = ok && make_buffer(env, (size_t)send_slots * OP_WORDS * 4, &p, &b->send_queue_ref);
  b->send_queue = p;
  ok = ok && make_buffer(env, b->send_bytes, &p, &b->send_data_ref);
  b->send_data = p;
  napi_value handle, name;
  ok = ok && napi_create_reference(env, argv[3], 1, &b->cb_ref) == napi_ok;
  ok = ok && napi_create_object(env, &handle) == napi_ok;
  ok = ok && napi_create_string_utf8(env, "SwitchboardUdpBatch", NAPI_AUTO_LENGTH, &name) == napi_ok;
  ok = ok && napi_async_init(env, handle, name, &b->actx) == napi_ok;
  if (!ok) {
    if (b->recv_data_ref) napi_delete_reference(env, b->recv_data_ref);
    if (b->recv_meta_ref) napi_delete_reference(env, b->recv_meta_ref);
    if (b->send_queue_ref) napi_delete_reference(env, b->send_queue_ref);
    if (b->send_data_ref) napi_delete_reference(env, b->send_data_ref);
    if (b->cb_ref) napi_delete_reference(env, b->cb_ref);
    if (b->actx) napi_async_destroy(env, b->actx);
    free_batch(b);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "SB_ERR_UDP", "createBatch: out of memory");
    return NULL;
  }
  for (int32_t i = 0; i < slots; i++) {
    b->riov[i].iov_base = b->recv_data + (size_t)i * (size_t)slot_size;
    b->riov[i].iov_len = (size_t)slot_size;
    b->rmsgs[i].msg_hdr.msg_iov = &b->riov[i];
    b->rmsgs[i].msg_hdr.msg_iovlen = 1;
    b->rmsgs[i].msg_hdr.msg_name = &b->raddr[i];
    b->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  for (int32_t i = 0; i < send_slots; i++) {
    b->smsgs[i].msg_hdr.msg_iov = &b->siov[(size_t)i * 3];
    b->smsgs[i].msg_hdr.msg_name = &b->saddr[i];
    b->smsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  if (napi_wrap(env, handle, b, finalize_batch, NULL, NULL) != napi_ok) {
    napi_delete_reference(env, b->recv_data_ref);
    napi_delete_reference(env, b->recv_meta_ref);
    napi_delete_reference(env, b->send_queue_ref);
    napi_delete_reference(env, b->send_data_ref);
    napi_delete_reference(env, b->cb_ref);
    napi_async_destroy(env, b->actx);
    free_batch(b);
    return NULL;
  }
  napi_create_reference(env, handle, 0, &b->self_ref);
  napi_add_async_cleanup_hook(env, on_env_cleanup, b, &b->hook);
  return handle;
}

// batchBuffers(handle) -> { recvData, recvMeta, sendQueue, sendData }
static napi_value js_batch_buffers(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return get_batch(env, NULL), NULL;
  batch* b = get_batch(env, argv[0]);
  if (b == NULL) return NULL;
  napi_value out, v;
  napi_create_object(env, &out);
  napi_get_reference_value(env, b->recv_data_ref, &v);
  napi_set_named_property(env, out, "recvData", v);
  napi_get_reference_value(env, b->recv_meta_ref, &v);
  napi_set_named_property(env, out, "recvMeta", v);
  napi_get_reference_value(env, b->send_queue_ref, &v);
  napi_set_named_property(env, out, "sendQueue", v);
  napi_get_reference_value(env, b->send_data_ref, &v);
  napi_set_named_property(env, out, "sendData", v);
  return out;
}

// watch(handle, fd, sockId): the batch takes ownership of fd (closed by unwatch/closeBatch).
static napi_value js_watch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "watch(handle, fd: number, sockId: number)");
    return NULL;
  }
  batch* b = get_batch(env, argv[0]);
  if (b == NULL) return NULL;
  int32_t fd = -1, id = -1;
  if (!get_i32(env, argv[1], &fd) || !get_i32(env, argv[2], &id)) {
    napi_throw_type_error(env, NULL, "watch(handle, fd: number, sockId: number)");
    return NULL;
  }
  if (b->closed) return throw_code(env, "SB_ERR_UDP", "watch: batch is closed");
  if (fd < 0) {
    napi_throw_range_error(env, NULL, "watch: bad fd");
    return NULL;
  }
  if (id < 0 || id >= MAX_SOCK_ID) {
    napi_throw_range_error(env, NULL, "watch: sockId must be 0..2^24-1");
    return NULL;
  }
  if (lookup(b, id) != NULL) return throw_code(env, "SB_ERR_UDP", "watch: sockId is already watched");
  if ((uint32_t)id >= b->table_cap) {
    uint32_t cap = b->table_cap ? b->table_cap : 16;
    while (cap <= (uint32_t)id) cap *= 2;
    sock** t = (sock**)realloc(b->table, (size_t)cap * sizeof *t);
    if (t == NULL) return throw_sys(env, "realloc", ENOMEM, 0);
    memset(t + b->table_cap, 0, (size_t)(cap - b->table_cap) * sizeof *t);
    b->table = t;
    b->table_cap = cap;
  }
  uv_loop_t* loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL)
    return throw_code(env, "SB_ERR_UDP", "watch: no event loop");
  sock* s = (sock*)calloc(1, sizeof *s);
  if (s == NULL) return throw_sys(env, "calloc", ENOMEM, 0);
  s->fd = fd;
  s->id = id;
  s->b = b;
  int r = uv_poll_init(loop, &s->poll, fd);
  if (r < 0) {
    free(s);
    return throw_sys(env, "uv_poll_init", -r, 0);
  }
  s->poll.data = s;
  r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (r < 0) {
    // The handle is initialized: it must be closed, but the fd stays with the caller.
    s->fd = -1;
    s->poll.data = s;
    b->pending_closes++;
    uv_close((uv_handle_t*)&s->poll, on_sock_closed);
    return throw_sys(env, "uv_poll_start", -r, 0);
  }
  b->table[id] = s;
  if (b->watched++ == 0) {
    uint32_t rc;
    napi_reference_ref(env, b->self_ref, &rc);
  }
  return NULL;
}

// unwatch(handle, sockId): stops polling and closes the socket; unknown ids are ignored.
static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "unwatch(handle, sockId: number)");
    return NULL;
  }
  batch* b = get_batch(env, argv[0]);
  if (b == NULL) return NULL;
  int32_t id = -1;
  if (!get_i32(env, argv[1], &id)) {
    napi_throw_type_error(env, NULL, "unwatch(handle, sockId: number)");
    return NULL;
  }
  drop_sock(b, id);
  return NULL;
}

// Fills msg m (its iovecs, destination, header bytes) from queue op `op`; 0 if the op is invalid.
static int build_msg(batch* b, uint32_t m, const int32_t* op) {
  int32_t flags = op[4], offset = op[5], length = op[6];
  uint8_t* base;
  size_t area;
  if (flags & FLAG_SEND_AREA) {
    base = b->send_data;
    area = b->send_bytes;
  } else {
    base = b->recv_data;
    area = b->recv_bytes;
  }
  if (offset < 0 || length < 0 || (size_t)offset + (size_t)length > area) return 0;
  if (op[2] < 0 || op[2] > 65535) return 0;
  struct iovec* iov = &b->siov[(size_t)m * 3];
  size_t n = 0, total = 0;
  if (flags & FLAG_HEADER) {
    uint32_t h = (uint32_t)op[3];
    uint8_t* hb = b->shdr + (size_t)m * 4;
    hb[0] = (uint8_t)(h >> 24);
    hb[1] = (uint8_t)(h >> 16);
    hb[2] = (uint8_t)(h >> 8);
    hb[3] = (uint8_t)h;
    iov[n].iov_base = hb;
    iov[n].iov_len = 4;
    n++;
    total += 4;
  }
  iov[n].iov_base = base + offset;
  iov[n].iov_len = (size_t)length;
  n++;
  total += (size_t)length;
  if ((flags & FLAG_PAD4) && (total & 3)) {
    iov[n].iov_base = (void*)zeros;
    iov[n].iov_len = 4 - (total & 3);
    n++;
  }
  struct msghdr* h = &b->smsgs[m].msg_hdr;
  h->msg_iovlen = n;
  h->msg_namelen = sizeof(struct sockaddr_in);
  h->msg_control = NULL;
  h->msg_controllen = 0;
  h->msg_flags = 0;
  struct sockaddr_in* sa = &b->saddr[m];
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)op[2]);
  sa->sin_addr.s_addr = htonl((uint32_t)op[1]);
  return 1;
}

// Sends msgs 0..m-1 on fd; returns how many went out, counting the rest as dropped.
static uint32_t send_group(batch* b, int fd, uint32_t m) {
  uint32_t done = 0, sent = 0;
  while (done < m) {
    uint32_t vlen = m - done < MAX_VLEN ? m - done : MAX_VLEN;
    int r = sendmmsg(fd, b->smsgs + done, vlen, MSG_DONTWAIT);
    if (r > 0) {
      done += (uint32_t)r;
      sent += (uint32_t)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      b->dropped_send += m - done; // socket buffer full: drop the rest of this group
      return sent;
    }
    // This one message was refused (EMSGSIZE, ENETUNREACH, EPERM, ...): drop it, go on.
    b->dropped_send++;
    done++;
  }
  return sent;
}

// flush(handle, count) -> datagrams sent
static napi_value js_flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "flush(handle, count: number)");
    return NULL;
  }
  batch* b = get_batch(env, argv[0]);
  if (b == NULL) return NULL;
  int32_t count = 0;
  if (!get_i32(env, argv[1], &count)) {
    napi_throw_type_error(env, NULL, "flush(handle, count: number)");
    return NULL;
  }
  if (count < 0 || (uint32_t)count > b->send_slots) {
    napi_throw_range_error(env, NULL, "flush: count must be 0..sendSlots");
    return NULL;
  }
  uint32_t sent = 0;
  if (!b->closed) {
    uint32_t i = 0, n = (uint32_t)count;
    while (i < n) {
      int32_t id = b->send_queue[(size_t)i * OP_WORDS];
      uint32_t j = i;
      while (j < n && b->send_queue[(size_t)j * OP_WORDS] == id) j++;
      sock* s = lookup(b, id);
      if (s == NULL) {
        b->dropped_send += j - i;
      } else {
        uint32_t m = 0;
        for (uint32_t k = i; k < j; k++) {
          if (build_msg(b, m, b->send_queue + (size_t)k * OP_WORDS)) m++;
          else b->dropped_send++;
        }
        if (m > 0) sent += send_group(b, s->fd, m);
      }
      i = j;
    }
  } else {
    b->dropped_send += (uint32_t)count;
  }
  b->sent += sent;
  napi_value out;
  napi_create_uint32(env, sent, &out);
  return out;
}

// stats(handle) -> { received, sent, dropped_truncated, dropped_send, batches }
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return get_batch(env, NULL), NULL;
  batch* b = get_batch(env, argv[0]);
  if (b == NULL) return NULL;
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "received", b->received);
  set_num(env, o, "sent", b->sent);
  set_num(env, o, "dropped_truncated", b->dropped_truncated);
  set_num(env, o, "dropped_send", b->dropped_send);
  set_num(env, o, "batches", b->batches);
  return o;
}

// closeBatch(handle): closes every watched socket; the buffers stay valid while JS holds them.
static napi_value js_close_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return get_batch(env, NULL), NULL;
  batch* b = get_batch(env, argv[0]);
  if (b == NULL) return NULL;
  close_all(b);
  b->closed = 1;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"openSocket", NULL, js_open_socket, NULL, NULL, NULL, napi_default, NULL},
    {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
    {"setBuffers", NULL, js_set_buffers, NULL, NULL, NULL, napi_default, NULL},
    {"createBatch", NULL, js_create_batch, NULL, NULL, NULL, napi_default, NULL},
    {"batchBuffers", NULL, js_batch_buffers, NULL, NULL, NULL, napi_default, NULL},
    {"watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL},
    {"unwatch", NULL, js_unwatch, NULL, NULL, NULL, napi_default, NULL},
    {"flush", NULL, js_flush, NULL, NULL, NULL, napi_default, NULL},
    {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
    {"closeBatch", NULL, js_close_batch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
