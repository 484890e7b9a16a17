// SrtpSender: protect and sendmmsg on a thread of its own.
#include "dtls_srtp.h"

// ================= SrtpSender: protect + sendmmsg on a thread of its own =================
//
// The JS thread fills one of `nbuf` buffers (packets in `data`, one op per packet in `ops`:
// [ipv4, port, context id (-1: send as is), offset in data, length]) and submits it; this
// thread encrypts the buffer's packets in place (holding the table lock) and sends them with
// sendmmsg, then marks the buffer free. Buffers are sent in submission order. So the second
// core does the crypto and the system calls while the first runs the forwarding logic.

#define MAGIC_SENDER 0x53454e44u
#define SENDER_OP_WORDS 5
#define SENDER_MAX_BUF 16

typedef struct {
  uint32_t magic;
  table_t* table;
  napi_ref table_ref;
  int fd;
  int32_t nbuf, slots, slot_size;
  uint8_t* data;    // nbuf * slots * slot_size
  int32_t* ops;     // nbuf * slots * SENDER_OP_WORDS
  int32_t* state;   // nbuf: 0 free (JS owns), 1 submitted (thread owns)
  int32_t counts[SENDER_MAX_BUF];
  int32_t queue[SENDER_MAX_BUF];
  int32_t qhead, qlen;
  struct mmsghdr* msgs;
  struct iovec* iovs;
  struct sockaddr_in* addrs;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;      // work queued / stop
  pthread_cond_t freed;   // a buffer became free
  int running, stop;
  double sent, dropped, batches, busy_waits;
  struct timespec submitted[SENDER_MAX_BUF];
  // packets by time from submit to sendmmsg done: bucket i = [2^i, 2^(i+1)) microseconds
  double lat_us[32];
} sender_t;

static void sender_send(sender_t* w, int32_t b) {
  int32_t n = w->counts[b];
  uint8_t* base = w->data + (size_t)b * (size_t)w->slots * (size_t)w->slot_size;
  size_t area = (size_t)w->slots * (size_t)w->slot_size;
  int32_t* ops = w->ops + (size_t)b * (size_t)w->slots * SENDER_OP_WORDS;
  int m = 0;
  table_t* t = w->table;
  pthread_mutex_lock(&t->mu);
  for (int32_t i = 0; i < n; i++) {
    int32_t* e = ops + (size_t)i * SENDER_OP_WORDS;
    int32_t id = e[2], off = e[3], len = e[4];
    if (off < 0 || len <= 0 || (size_t)off + (size_t)len > area) continue;
    if (id >= 0) {
      int kind = is_rtcp(base + off, (size_t)len) ? 2 : 0;
      // room: up to the end of the slot this packet starts in
      size_t slot_end = ((size_t)off / (size_t)w->slot_size + 1) * (size_t)w->slot_size;
      int r = do_op(t, kind, id, base, slot_end, off, len);
      if (r <= 0) continue;
      len = r;
    }
    struct sockaddr_in* a = &w->addrs[m];
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)e[1]);
    a->sin_addr.s_addr = htonl((uint32_t)e[0]);
    w->iovs[m].iov_base = base + off;
    w->iovs[m].iov_len = (size_t)len;
    memset(&w->msgs[m].msg_hdr, 0, sizeof w->msgs[m].msg_hdr);
    w->msgs[m].msg_hdr.msg_name = a;
    w->msgs[m].msg_hdr.msg_namelen = sizeof *a;
    w->msgs[m].msg_hdr.msg_iov = &w->iovs[m];
    w->msgs[m].msg_hdr.msg_iovlen = 1;
    m++;
  }
  pthread_mutex_unlock(&t->mu);
  int done = 0, tries = 0;
  while (done < m) {
    int r = sendmmsg(w->fd, w->msgs + done, (unsigned)(m - done), 0);
    if (r > 0) {
      done += r;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && tries++ < 20) {
      struct pollfd p = {w->fd, POLLOUT, 0};
      poll(&p, 1, 5);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    // a refused datagram (e.g. ECONNREFUSED from ICMP): skip it and go on
    if (r < 0 && tries++ < 64) {
      done++;
      w->dropped++;
      continue;
    }
    break;
  }
  w->dropped += m - done;
  w->sent += done;
  w->batches++;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double us = (double)(now.tv_sec - w->submitted[b].tv_sec) * 1e6 + (double)(now.tv_nsec - w->submitted[b].tv_nsec) / 1e3;
  int bucket = 0;
  while (bucket < 31 && us >= (double)(2u << bucket)) bucket++;
  w->lat_us[bucket] += done;
}

static void* sender_main(void* arg) {
  sender_t* w = (sender_t*)arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (w->qlen == 0 && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
    if (w->qlen == 0 && w->stop) break;
    int32_t b = w->queue[w->qhead];
    pthread_mutex_unlock(&w->mu);
    sender_send(w, b);
    pthread_mutex_lock(&w->mu);
    w->qhead = (w->qhead + 1) % SENDER_MAX_BUF;
    w->qlen--;
    __atomic_store_n(&w->state[b], 0, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&w->freed);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void sender_stop(sender_t* w) {
  if (!w->running) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  w->running = 0;
}

static void sender_finalize(napi_env env, void* data, void* hint) {
  sender_t* w = (sender_t*)data;
  sender_stop(w);
  if (w->table_ref) napi_delete_reference(env, w->table_ref);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  pthread_cond_destroy(&w->freed);
  free(w->data);
  free(w->ops);
  free(w->state);
  free(w->msgs);
  free(w->iovs);
  free(w->addrs);
  w->magic = 0;
  free(w);
}

static void noop_finalize(napi_env env, void* data, void* hint) {}

// senderNew(table, fd, nbuf, slots, slotSize) -> { handle, data: ArrayBuffer, ops: ArrayBuffer, state: ArrayBuffer }
napi_value js_sender_new(napi_env env, napi_callback_info info) {
  ARGS(5);
  GET_TABLE(0);
  int32_t fd, nbuf, slots, slot_size;
  if (!get_i32(env, argv[1], &fd) || !get_i32(env, argv[2], &nbuf) || !get_i32(env, argv[3], &slots) || !get_i32(env, argv[4], &slot_size)) {
    napi_throw_type_error(env, NULL, "fd, buffers, slots and slotSize must be numbers");
    return NULL;
  }
  if (fd < 0 || nbuf < 2 || nbuf > SENDER_MAX_BUF || slots < 1 || slots > 65536 || slot_size < 64 || slot_size > 65536) {
    napi_throw_range_error(env, NULL, "bad SrtpSender sizes");
    return NULL;
  }
  sender_t* w = calloc(1, sizeof *w);
  if (!w) return throw_code(env, "SB_ERR_SRTP", "out of memory");
  w->magic = MAGIC_SENDER;
  w->table = t;
  w->fd = fd;
  w->nbuf = nbuf;
  w->slots = slots;
  w->slot_size = slot_size;
  w->data = calloc((size_t)nbuf * (size_t)slots, (size_t)slot_size);
  w->ops = calloc((size_t)nbuf * (size_t)slots * SENDER_OP_WORDS, sizeof(int32_t));
  w->state = calloc((size_t)nbuf, sizeof(int32_t));
  w->msgs = calloc((size_t)slots, sizeof *w->msgs);
  w->iovs = calloc((size_t)slots, sizeof *w->iovs);
  w->addrs = calloc((size_t)slots, sizeof *w->addrs);
  if (!w->data || !w->ops || !w->state || !w->msgs || !w->iovs || !w->addrs) {
    free(w->data); free(w->ops); free(w->state); free(w->msgs); free(w->iovs); free(w->addrs); free(w);
    return throw_code(env, "SB_ERR_SRTP", "out of memory");
  }
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  pthread_cond_init(&w->freed, NULL);
  napi_create_reference(env, argv[0], 1, &w->table_ref);
  if (pthread_create(&w->thread, NULL, sender_main, w) != 0) {
    napi_value tmp;
    (void)tmp;
    sender_finalize(env, w, NULL);
    return throw_code(env, "SB_ERR_SRTP", "cannot start the sender thread");
  }
  w->running = 1;
  napi_value h, o, ab_data, ab_ops, ab_state;
  napi_create_external(env, w, sender_finalize, NULL, &h);
  // The buffers live as long as the sender (freed in its finalizer); the views must not outlive it.
  napi_create_external_arraybuffer(env, w->data, (size_t)nbuf * (size_t)slots * (size_t)slot_size, noop_finalize, NULL, &ab_data);
  napi_create_external_arraybuffer(env, w->ops, (size_t)nbuf * (size_t)slots * SENDER_OP_WORDS * sizeof(int32_t), noop_finalize, NULL, &ab_ops);
  napi_create_external_arraybuffer(env, w->state, (size_t)nbuf * sizeof(int32_t), noop_finalize, NULL, &ab_state);
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "handle", h);
  napi_set_named_property(env, o, "data", ab_data);
  napi_set_named_property(env, o, "ops", ab_ops);
  napi_set_named_property(env, o, "state", ab_state);
  return o;
}

#define GET_SENDER(i)                                                     \
  sender_t* w = get_external(env, argv[i], MAGIC_SENDER, "SrtpSender");   \
  if (!w) return NULL;

// senderSubmit(handle, buffer, count): the thread owns the buffer until state[buffer] is 0 again.
napi_value js_sender_submit(napi_env env, napi_callback_info info) {
  ARGS(3);
  GET_SENDER(0);
  int32_t b, n;
  if (!get_i32(env, argv[1], &b) || !get_i32(env, argv[2], &n) || b < 0 || b >= w->nbuf || n < 0 || n > w->slots) {
    napi_throw_range_error(env, NULL, "bad buffer or count");
    return NULL;
  }
  if (!w->running || w->stop) return NULL;
  pthread_mutex_lock(&w->mu);
  if (w->state[b] != 0 || w->qlen >= SENDER_MAX_BUF) {
    pthread_mutex_unlock(&w->mu);
    napi_throw_error(env, "SB_ERR_SRTP", "buffer already submitted");
    return NULL;
  }
  w->counts[b] = n;
  clock_gettime(CLOCK_MONOTONIC, &w->submitted[b]);
  __atomic_store_n(&w->state[b], 1, __ATOMIC_RELEASE);
  w->queue[(w->qhead + w->qlen) % SENDER_MAX_BUF] = b;
  w->qlen++;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

// senderAcquire(handle, timeoutMs) -> index of a free buffer, or -1 after the timeout
napi_value js_sender_acquire(napi_env env, napi_callback_info info) {
  ARGS(2);
  GET_SENDER(0);
  int32_t timeout;
  if (!get_i32(env, argv[1], &timeout)) timeout = 0;
  pthread_mutex_lock(&w->mu);
  for (int round = 0; ; round++) {
    for (int32_t b = 0; b < w->nbuf; b++) {
      if (__atomic_load_n(&w->state[b], __ATOMIC_ACQUIRE) == 0) {
        pthread_mutex_unlock(&w->mu);
        return make_i32(env, b);
      }
    }
    if (round > 0 || timeout <= 0 || !w->running) break;
    w->busy_waits++;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)timeout * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&w->freed, &w->mu, &ts);
  }
  pthread_mutex_unlock(&w->mu);
  return make_i32(env, -1);
}

napi_value js_sender_stats(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SENDER(0);
  napi_value o;
  napi_create_object(env, &o);
  pthread_mutex_lock(&w->mu);
  set_num(env, o, "sent", w->sent);
  set_num(env, o, "dropped", w->dropped);
  set_num(env, o, "batches", w->batches);
  set_num(env, o, "waits", w->busy_waits);
  set_num(env, o, "queued", w->qlen);
  napi_value lat;
  napi_create_array_with_length(env, 32, &lat);
  for (uint32_t i = 0; i < 32; i++) {
    napi_value v;
    napi_create_double(env, w->lat_us[i], &v);
    napi_set_element(env, lat, i, v);
  }
  napi_set_named_property(env, o, "latencyUs", lat);
  pthread_mutex_unlock(&w->mu);
  return o;
}

// senderClose(handle): sends what is queued, stops the thread (the buffers stay valid until GC)
napi_value js_sender_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SENDER(0);
  sender_stop(w);
  return NULL;
}
