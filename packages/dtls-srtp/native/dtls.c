// DTLS 1.2 sessions (DTLS-SRTP, RFC 5764): one SSL per session, a memory BIO in, a datagram-packing
// BIO out, the handshake driven by received datagrams and timeouts, SRTP keys exported at the end.
#include "dtls_srtp.h"

enum { ST_NEW = 0, ST_CONNECTING = 1, ST_CONNECTED = 2, ST_CLOSED = 3, ST_FAILED = 4 };

typedef struct {
  uint8_t* p;
  size_t n;
} chunk;

typedef struct {
  chunk* items;
  size_t count, cap;
} queue;

static int queue_push(queue* q, const uint8_t* p, size_t n) {
  if (q->count == q->cap) {
    size_t nc = q->cap ? q->cap * 2 : 8;
    chunk* ni = realloc(q->items, nc * sizeof *ni);
    if (!ni) return 0;
    q->items = ni;
    q->cap = nc;
  }
  uint8_t* copy = malloc(n ? n : 1);
  if (!copy) return 0;
  memcpy(copy, p, n);
  q->items[q->count].p = copy;
  q->items[q->count].n = n;
  q->count++;
  return 1;
}

static void queue_clear(queue* q) {
  for (size_t i = 0; i < q->count; i++) free(q->items[i].p);
  q->count = 0;
}

static void queue_free(queue* q) {
  queue_clear(q);
  free(q->items);
  q->items = NULL;
  q->cap = 0;
}

typedef struct {
  uint32_t magic;
  int is_server;
  int state;
  int mtu;
  SSL_CTX* ctx;
  SSL* ssl;
  BIO* rbio;  // memory BIO, owned by ssl
  BIO* wbio;  // datagram-packing BIO, owned by ssl
  BIO_METHOD* wmeth;
  uint8_t* pend;  // datagram being assembled
  size_t pend_len;
  queue out, app;
  char error[512];
  char alert[120];
} sess_t;

static void sess_flush_pending(sess_t* s) {
  if (s->pend_len) {
    queue_push(&s->out, s->pend, s->pend_len);
    s->pend_len = 0;
  }
}

static int wbio_write(BIO* b, const char* data, int len) {
  sess_t* s = (sess_t*)BIO_get_data(b);
  if (!s || len < 0) return -1;
  if ((size_t)len > (size_t)s->mtu) {
    // Larger than one datagram (should not happen with SSL_set_mtu): send it on its own.
    sess_flush_pending(s);
    queue_push(&s->out, (const uint8_t*)data, (size_t)len);
    return len;
  }
  if (s->pend_len && s->pend_len + (size_t)len > (size_t)s->mtu) sess_flush_pending(s);
  memcpy(s->pend + s->pend_len, data, (size_t)len);
  s->pend_len += (size_t)len;
  return len;
}

static long wbio_ctrl(BIO* b, int cmd, long num, void* ptr) {
  sess_t* s = (sess_t*)BIO_get_data(b);
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      if (s) sess_flush_pending(s);
      return 1;
    case BIO_CTRL_WPENDING:
      return s ? (long)s->pend_len : 0;
    case BIO_CTRL_PENDING:
      return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return s ? s->mtu : 1200;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 28;
    default:
      return 0;
  }
}

static void sess_fail(sess_t* s, const char* why) {
  if (s->state == ST_FAILED) return;
  s->state = ST_FAILED;
  if (s->alert[0])
    snprintf(s->error, sizeof s->error, "%s (%s)", why, s->alert);
  else
    snprintf(s->error, sizeof s->error, "%s", why);
}

static void sess_fail_ssl(sess_t* s, int err, const char* what) {
  char msg[300];
  if (err == SSL_ERROR_SSL) {
    openssl_error(msg, sizeof msg, what);
  } else if (err == SSL_ERROR_SYSCALL) {
    snprintf(msg, sizeof msg, "%s: transport error", what);
    ERR_clear_error();
  } else {
    snprintf(msg, sizeof msg, "%s: SSL error %d", what, err);
    ERR_clear_error();
  }
  sess_fail(s, msg);
}

static void info_cb(const SSL* ssl, int where, int ret) {
  if (!(where & SSL_CB_ALERT)) return;
  sess_t* s = (sess_t*)SSL_get_ex_data(ssl, 0);
  if (!s) return;
  const char* level = SSL_alert_type_string_long(ret);
  const char* desc = SSL_alert_desc_string_long(ret);
  if ((ret & 0xff) == 0) {  // close_notify
    return;
  }
  snprintf(s->alert, sizeof s->alert, "%s %s alert: %s", (where & SSL_CB_READ) ? "received" : "sent", level, desc);
}

static int verify_cb(int preverify_ok, X509_STORE_CTX* ctx) {
  // Any certificate is accepted here; JS compares remoteFingerprint() with the SDP fingerprint.
  (void)preverify_ok;
  (void)ctx;
  return 1;
}

static void sess_free_ssl(sess_t* s) {
  if (s->ssl) SSL_free(s->ssl);  // frees both BIOs
  s->ssl = NULL;
  s->rbio = s->wbio = NULL;
  if (s->ctx) SSL_CTX_free(s->ctx);
  s->ctx = NULL;
  if (s->wmeth) BIO_meth_free(s->wmeth);
  s->wmeth = NULL;
  free(s->pend);
  s->pend = NULL;
  s->pend_len = 0;
  queue_free(&s->out);
  queue_free(&s->app);
}

static void sess_finalize(napi_env env, void* data, void* hint) {
  sess_t* s = (sess_t*)data;
  sess_free_ssl(s);
  s->magic = 0;
  free(s);
}

// Drives the handshake and, once connected, drains application data.
static void sess_drive(sess_t* s) {
  if (!s->ssl) return;
  ERR_clear_error();
  if (s->state == ST_CONNECTING) {
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
      s->state = ST_CONNECTED;
    } else {
      int e = SSL_get_error(s->ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        sess_fail_ssl(s, e, "DTLS handshake failed");
      } else {
        ERR_clear_error();
      }
    }
  }
  if (s->state == ST_CONNECTED) {
    uint8_t buf[16384 + 256];
    for (;;) {
      int n = SSL_read(s->ssl, buf, sizeof buf);
      if (n > 0) {
        queue_push(&s->app, buf, (size_t)n);
        continue;
      }
      int e = SSL_get_error(s->ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        break;
      }
      if (e == SSL_ERROR_ZERO_RETURN) {
        s->state = ST_CLOSED;
        ERR_clear_error();
        break;
      }
      sess_fail_ssl(s, e, "DTLS read failed");
      break;
    }
  }
  sess_flush_pending(s);
}

// sessionCreate(certHandle, isServer, mtu, profiles) -> handle
napi_value js_sess_create(napi_env env, napi_callback_info info) {
  ARGS(4);
  cert_t* c = get_external(env, argv[0], MAGIC_CERT, "Certificate");
  if (!c) return NULL;
  bool is_server = false;
  napi_get_value_bool(env, argv[1], &is_server);
  int32_t mtu;
  if (!get_i32(env, argv[2], &mtu) || mtu < 256 || mtu > 65535) {
    napi_throw_range_error(env, NULL, "mtu must be 256..65535");
    return NULL;
  }
  char profiles[128];
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, argv[3], profiles, sizeof profiles, &plen) != napi_ok) {
    napi_throw_type_error(env, NULL, "profiles must be a string");
    return NULL;
  }
  ERR_clear_error();
  sess_t* s = calloc(1, sizeof *s);
  if (!s) return throw_code(env, "SB_ERR_DTLS", "out of memory");
  s->magic = MAGIC_SESS;
  s->is_server = is_server;
  s->mtu = mtu;
  s->pend = malloc((size_t)mtu);
  char msg[300];
  int ok = s->pend != NULL;
  ok = ok && (s->ctx = SSL_CTX_new(DTLS_method())) != NULL;
  if (ok) {
    SSL_CTX_set_min_proto_version(s->ctx, DTLS1_2_VERSION);
    SSL_CTX_set_options(s->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_read_ahead(s->ctx, 1);
    ok = SSL_CTX_set_cipher_list(s->ctx,
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA");
    ok = ok && SSL_CTX_set1_groups_list(s->ctx, "X25519:P-256:P-384");
    ok = ok && SSL_CTX_use_certificate(s->ctx, c->x509) == 1 && SSL_CTX_use_PrivateKey(s->ctx, c->pkey) == 1;
    ok = ok && SSL_CTX_check_private_key(s->ctx) == 1;
    // Note: SSL_CTX_set_tlsext_use_srtp returns 0 on success.
    ok = ok && SSL_CTX_set_tlsext_use_srtp(s->ctx, profiles) == 0;
  }
  ok = ok && (s->wmeth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sb-dgram-out")) != NULL;
  ok = ok && BIO_meth_set_write(s->wmeth, wbio_write) && BIO_meth_set_ctrl(s->wmeth, wbio_ctrl);
  ok = ok && (s->ssl = SSL_new(s->ctx)) != NULL;
  if (ok) {
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(s->wmeth);
    ok = s->rbio && s->wbio;
    if (ok) {
      BIO_set_mem_eof_return(s->rbio, -1);
      BIO_set_data(s->wbio, s);
      BIO_set_init(s->wbio, 1);
      SSL_set_bio(s->ssl, s->rbio, s->wbio);
    } else {
      BIO_free(s->rbio);
      BIO_free(s->wbio);
      s->rbio = s->wbio = NULL;
    }
  }
  if (ok) {
    SSL_set_ex_data(s->ssl, 0, s);
    SSL_set_info_callback(s->ssl, info_cb);
    SSL_set_mtu(s->ssl, mtu);
    if (is_server)
      SSL_set_accept_state(s->ssl);
    else
      SSL_set_connect_state(s->ssl);
  }
  if (!ok) {
    openssl_error(msg, sizeof msg, "DTLS setup failed");
    sess_free_ssl(s);
    free(s);
    return throw_code(env, "SB_ERR_DTLS", msg);
  }
  napi_value h;
  if (napi_create_external(env, s, sess_finalize, NULL, &h) != napi_ok) {
    sess_finalize(env, s, NULL);
    return NULL;
  }
  return h;
}

#define GET_SESS(i)                                               \
  sess_t* s = get_external(env, argv[i], MAGIC_SESS, "DtlsSession"); \
  if (!s) return NULL;

napi_value js_sess_start(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (!s->ssl) return throw_code(env, "SB_ERR_DTLS", "session destroyed");
  if (s->state == ST_NEW) {
    s->state = ST_CONNECTING;
    if (!s->is_server) sess_drive(s);
  }
  return NULL;
}

napi_value js_sess_receive(napi_env env, napi_callback_info info) {
  ARGS(2);
  GET_SESS(0);
  uint8_t* p;
  size_t n;
  if (!get_u8(env, argv[1], &p, &n)) return NULL;
  if (!s->ssl || s->state == ST_FAILED || s->state == ST_CLOSED || n == 0) return NULL;
  if (s->state == ST_NEW) s->state = ST_CONNECTING;
  if (n > 65535) return NULL;
  // The memory BIO must hold exactly this datagram: drop whatever an earlier one left.
  (void)BIO_reset(s->rbio);
  if (BIO_write(s->rbio, p, (int)n) != (int)n) return throw_code(env, "SB_ERR_DTLS", "BIO_write failed");
  sess_drive(s);
  (void)BIO_reset(s->rbio);
  return NULL;
}

static napi_value take_queue(napi_env env, queue* q) {
  napi_value arr;
  napi_create_array_with_length(env, q->count, &arr);
  for (size_t i = 0; i < q->count; i++) napi_set_element(env, arr, (uint32_t)i, make_bytes(env, q->items[i].p, q->items[i].n));
  queue_clear(q);
  return arr;
}

napi_value js_sess_take_outgoing(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (s->ssl) sess_flush_pending(s);
  return take_queue(env, &s->out);
}

napi_value js_sess_take_app(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  return take_queue(env, &s->app);
}

napi_value js_sess_send(napi_env env, napi_callback_info info) {
  ARGS(2);
  GET_SESS(0);
  uint8_t* p;
  size_t n;
  if (!get_u8(env, argv[1], &p, &n)) return NULL;
  if (!s->ssl || s->state != ST_CONNECTED) return throw_code(env, "SB_ERR_DTLS", "DTLS session is not connected");
  if (n == 0) return NULL;
  if (n > 16384) return throw_code(env, "SB_ERR_DTLS", "application data too large for one DTLS record");
  ERR_clear_error();
  int r = SSL_write(s->ssl, p, (int)n);
  if (r <= 0) {
    int e = SSL_get_error(s->ssl, r);
    char msg[300];
    openssl_error(msg, sizeof msg, "DTLS write failed");
    (void)e;
    sess_flush_pending(s);
    return throw_code(env, "SB_ERR_DTLS", msg);
  }
  sess_flush_pending(s);
  return NULL;
}

napi_value js_sess_state(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  return make_i32(env, s->state);
}

napi_value js_sess_error(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (s->state != ST_FAILED) {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  return make_str(env, s->error);
}

napi_value js_sess_next_timeout(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  struct timeval tv;
  if (!s->ssl || s->state != ST_CONNECTING || DTLSv1_get_timeout(s->ssl, &tv) != 1) return make_i32(env, -1);
  long ms = (long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
  if (ms > 0x7fffffff) ms = 0x7fffffff;
  return make_i32(env, (int32_t)ms);
}

napi_value js_sess_handle_timeout(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (!s->ssl || s->state != ST_CONNECTING) return NULL;
  ERR_clear_error();
  int r = DTLSv1_handle_timeout(s->ssl);
  if (r < 0) {
    char msg[300];
    openssl_error(msg, sizeof msg, "DTLS handshake timed out");
    sess_fail(s, msg);
  }
  sess_flush_pending(s);
  return NULL;
}

napi_value js_sess_remote_fp(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  napi_value u;
  napi_get_undefined(env, &u);
  if (!s->ssl) return u;
  X509* x = SSL_get1_peer_certificate(s->ssl);
  if (!x) return u;
  char fp[100];
  fingerprint_of(x, fp);
  X509_free(x);
  return fp[0] ? make_str(env, fp) : u;
}

// sessionSrtpKeys(h) -> { profile: number, material: Uint8Array } (client_key|server_key|client_salt|server_salt)
napi_value js_sess_srtp_keys(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (!s->ssl || s->state != ST_CONNECTED) return throw_code(env, "SB_ERR_DTLS", "DTLS session is not connected");
  SRTP_PROTECTION_PROFILE* prof = SSL_get_selected_srtp_profile(s->ssl);
  if (!prof) return throw_code(env, "SB_ERR_DTLS", "no SRTP profile was negotiated");
  int id = (int)prof->id;
  size_t salt;
  if (id == SRTP_AES128_CM_SHA1_80)
    salt = 14;
  else if (id == SRTP_AEAD_AES_128_GCM)
    salt = 12;
  else
    return throw_code(env, "SB_ERR_DTLS", "unsupported SRTP profile negotiated");
  uint8_t km[2 * (16 + 14)];
  size_t n = 2 * (16 + salt);
  static const char label[] = "EXTRACTOR-dtls_srtp";
  ERR_clear_error();
  if (SSL_export_keying_material(s->ssl, km, n, label, sizeof label - 1, NULL, 0, 0) != 1) {
    char msg[300];
    openssl_error(msg, sizeof msg, "SSL_export_keying_material failed");
    return throw_code(env, "SB_ERR_DTLS", msg);
  }
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "profile", make_i32(env, id));
  napi_set_named_property(env, o, "material", make_bytes(env, km, n));
  OPENSSL_cleanse(km, sizeof km);
  return o;
}

napi_value js_sess_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (!s->ssl) return NULL;
  if (s->state == ST_CONNECTED) {
    ERR_clear_error();
    SSL_shutdown(s->ssl);
    ERR_clear_error();
    sess_flush_pending(s);
  }
  if (s->state != ST_FAILED) s->state = ST_CLOSED;
  return NULL;
}

napi_value js_sess_destroy(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  sess_free_ssl(s);
  if (s->state != ST_FAILED) s->state = ST_CLOSED;
  return NULL;
}
