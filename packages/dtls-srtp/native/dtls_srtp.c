// DTLS 1.2 (DTLS-SRTP, RFC 5764) and SRTP/SRTCP (RFC 3711, RFC 7714) for the SFU transport.
//
// Crypto comes from the OpenSSL 3.0 that Node links statically and exports; nothing links
// against the system libssl. Headers: /usr/include/node/openssl.
//
// DTLS: one SSL per session with its own SSL_CTX (handshake-rate objects). Input goes through a
// memory BIO (one datagram at a time); output goes through a small custom BIO that packs the
// records OpenSSL writes into datagrams of at most `mtu` bytes (a flush ends a datagram), so
// JS gets datagram boundaries without a socket.
//
// SRTP: a table of contexts addressed by small ids. Each context owns its cipher contexts
// (created and keyed once; per packet only the IV is set) and precomputed HMAC-SHA1 inner and
// outer states (copied on the stack per packet), so protect/unprotect never allocate. Per-SSRC
// state lives in an open-addressing hash that grows when a new SSRC appears.
//
// Threads: no mutable globals; every object belongs to the thread (N-API env) that made it.
// Memory: handles are napi externals; destroy()/close() free the OpenSSL state at once, the
// finalizer frees the rest (so a second destroy() or use after close is harmless).
#define _GNU_SOURCE
#define NAPI_VERSION 8
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <pthread.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_CERT 0x43455254u
#define MAGIC_SESS 0x53455353u
#define MAGIC_TABLE 0x5441424cu

// ---------- N-API helpers ----------

static napi_value throw_code(napi_env env, const char* code, const char* msg) {
  napi_value m, c, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_throw(env, e);
  return NULL;
}

static void* get_external(napi_env env, napi_value v, uint32_t magic, const char* what) {
  void* p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok ||
      p == NULL || *(uint32_t*)p != magic) {
    char msg[80];
    snprintf(msg, sizeof msg, "not a %s handle", what);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return p;
}

static int get_i32(napi_env env, napi_value v, int32_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

// Uint8Array (or Buffer) bytes; returns 0 and throws if v is not one.
static int get_u8(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is;
  napi_typedarray_type type;
  size_t length, off;
  void* p;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &length, &p, &ab, &off) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  *data = (uint8_t*)p;
  *len = length;
  return 1;
}

static int get_i32arr(napi_env env, napi_value v, int32_t** data, size_t* len) {
  bool is;
  napi_typedarray_type type;
  size_t length, off;
  void* p;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &length, &p, &ab, &off) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "expected an Int32Array");
    return 0;
  }
  *data = (int32_t*)p;
  *len = length;
  return 1;
}

static napi_value make_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static napi_value make_bytes(napi_env env, const uint8_t* p, size_t n) {
  napi_value ab, r;
  void* data;
  napi_create_arraybuffer(env, n, &data, &ab);
  if (n) memcpy(data, p, n);
  napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &r);
  return r;
}

static napi_value make_str(napi_env env, const char* s) {
  napi_value r;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

static void set_num(napi_env env, napi_value o, const char* k, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, o, k, n);
}

#define ARGS(n)                                               \
  size_t argc = n;                                            \
  napi_value argv[n];                                         \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);       \
  if (argc < n) {                                             \
    napi_throw_type_error(env, NULL, "missing arguments");    \
    return NULL;                                              \
  }

static void fingerprint_of(X509* x, char* out /* >= 96 */) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hex[] = "0123456789ABCDEF";
  out[0] = 0;
  if (!X509_digest(x, EVP_sha256(), md, &n)) return;
  char* o = out;
  for (unsigned int i = 0; i < n; i++) {
    if (i) *o++ = ':';
    *o++ = hex[md[i] >> 4];
    *o++ = hex[md[i] & 15];
  }
  *o = 0;
}

static void openssl_error(char* buf, size_t n, const char* prefix) {
  unsigned long e = ERR_get_error();
  if (e) {
    char tmp[200];
    ERR_error_string_n(e, tmp, sizeof tmp);
    snprintf(buf, n, "%s: %s", prefix, tmp);
  } else {
    snprintf(buf, n, "%s", prefix);
  }
  ERR_clear_error();
}

// ================= Certificate =================

typedef struct {
  uint32_t magic;
  X509* x509;
  EVP_PKEY* pkey;
  char fp[100];
} cert_t;

static void cert_finalize(napi_env env, void* data, void* hint) {
  cert_t* c = (cert_t*)data;
  X509_free(c->x509);
  EVP_PKEY_free(c->pkey);
  c->magic = 0;
  free(c);
}

// certGenerate() -> { handle, fingerprint }
static napi_value js_cert_generate(napi_env env, napi_callback_info info) {
  ERR_clear_error();
  cert_t* c = calloc(1, sizeof *c);
  if (!c) return throw_code(env, "SB_ERR_DTLS", "out of memory");
  c->magic = MAGIC_CERT;
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509* x = X509_new();
  BIGNUM* bn = BN_new();
  int ok = pkey && x && bn;
  ok = ok && X509_set_version(x, 2);
  ok = ok && BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -86400L) && X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400L);
  ok = ok && X509_set_pubkey(x, pkey);
  if (ok) {
    X509_NAME* name = X509_get_subject_name(x);
    ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char*)"switchboard", -1, -1, 0) &&
         X509_set_issuer_name(x, name) && X509_sign(x, pkey, EVP_sha256()) > 0;
  }
  BN_free(bn);
  if (!ok) {
    char msg[300];
    openssl_error(msg, sizeof msg, "certificate generation failed");
    X509_free(x);
    EVP_PKEY_free(pkey);
    free(c);
    return throw_code(env, "SB_ERR_DTLS", msg);
  }
  c->x509 = x;
  c->pkey = pkey;
  fingerprint_of(x, c->fp);
  napi_value h, o;
  if (napi_create_external(env, c, cert_finalize, NULL, &h) != napi_ok) {
    cert_finalize(env, c, NULL);
    return NULL;
  }
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "handle", h);
  napi_set_named_property(env, o, "fingerprint", make_str(env, c->fp));
  return o;
}

// ================= DTLS session =================

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
static napi_value js_sess_create(napi_env env, napi_callback_info info) {
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

static napi_value js_sess_start(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (!s->ssl) return throw_code(env, "SB_ERR_DTLS", "session destroyed");
  if (s->state == ST_NEW) {
    s->state = ST_CONNECTING;
    if (!s->is_server) sess_drive(s);
  }
  return NULL;
}

static napi_value js_sess_receive(napi_env env, napi_callback_info info) {
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

static napi_value js_sess_take_outgoing(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (s->ssl) sess_flush_pending(s);
  return take_queue(env, &s->out);
}

static napi_value js_sess_take_app(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  return take_queue(env, &s->app);
}

static napi_value js_sess_send(napi_env env, napi_callback_info info) {
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

static napi_value js_sess_state(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  return make_i32(env, s->state);
}

static napi_value js_sess_error(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  if (s->state != ST_FAILED) {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  return make_str(env, s->error);
}

static napi_value js_sess_next_timeout(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  struct timeval tv;
  if (!s->ssl || s->state != ST_CONNECTING || DTLSv1_get_timeout(s->ssl, &tv) != 1) return make_i32(env, -1);
  long ms = (long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
  if (ms > 0x7fffffff) ms = 0x7fffffff;
  return make_i32(env, (int32_t)ms);
}

static napi_value js_sess_handle_timeout(napi_env env, napi_callback_info info) {
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

static napi_value js_sess_remote_fp(napi_env env, napi_callback_info info) {
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
static napi_value js_sess_srtp_keys(napi_env env, napi_callback_info info) {
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

static napi_value js_sess_close(napi_env env, napi_callback_info info) {
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

static napi_value js_sess_destroy(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SESS(0);
  sess_free_ssl(s);
  if (s->state != ST_FAILED) s->state = ST_CLOSED;
  return NULL;
}

// ================= SRTP =================

#define PROF_CM 1   // SRTP_AES128_CM_SHA1_80
#define PROF_GCM 7  // SRTP_AEAD_AES_128_GCM

#define E_AUTH (-1)
#define E_REPLAY (-2)
#define E_MALFORMED (-3)
#define E_NO_CONTEXT (-4)
#define E_NO_ROOM (-5)

#define CM_TAG 10
#define GCM_TAG 16
#define MAX_STREAMS (1u << 16)
#define MAX_CONTEXTS (1u << 20)

typedef struct {
  uint32_t ssrc;
  uint8_t used;
  uint8_t tx_init, rx_init, rxc_init;
  uint64_t tx_high;       // highest packet index we sent (ROC << 16 | seq)
  uint32_t tx_rtcp;       // last SRTCP index we sent
  uint64_t rx_high;       // highest authenticated packet index received
  uint64_t rx_win;        // bit d: index rx_high - d seen
  uint32_t rxc_high;      // highest SRTCP index received
  uint64_t rxc_win;
} stream_t;

typedef struct {
  EVP_CIPHER_CTX* enc;  // CM: AES-128-CTR (both ways); GCM: AES-128-GCM encrypt
  EVP_CIPHER_CTX* dec;  // GCM: AES-128-GCM decrypt
  SHA_CTX hi, ho;       // CM: HMAC-SHA1 inner/outer states after the key block
  uint8_t salt[14];
} keys_t;

typedef struct {
  int profile;
  keys_t tx_rtp, tx_rtcp, rx_rtp, rx_rtcp;
  stream_t* streams;
  uint32_t cap, count;
} sctx_t;

typedef struct {
  uint32_t magic;
  sctx_t** ctx;
  uint32_t cap;
  uint32_t live;
  double n_prot, n_unprot, n_auth, n_replay;
  // Held by every operation: an SrtpSender protects on its own thread while the JS thread
  // unprotects, adds and removes contexts.
  pthread_mutex_t mu;
} table_t;

static inline uint32_t be32(const uint8_t* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t be16(const uint8_t* p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void put32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

// RFC 3711 §4.3 key derivation (key derivation rate 0): AES-CM with the master key,
// IV = (master salt XOR label << 48) << 16. A 12-byte (GCM) salt is zero-padded to 14 bytes.
static int kdf(const uint8_t* mkey, const uint8_t* msalt, size_t slen, int label, uint8_t* out, size_t n) {
  uint8_t iv[16] = {0}, zeros[32] = {0};
  int outl = 0;
  memcpy(iv, msalt, slen);
  iv[7] ^= (uint8_t)label;
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  if (!c) return 0;
  int ok = EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, mkey, iv) && EVP_EncryptUpdate(c, out, &outl, zeros, (int)n);
  EVP_CIPHER_CTX_free(c);
  return ok && outl == (int)n;
}

static void hmac_setup(keys_t* k, const uint8_t* key, size_t klen) {
  uint8_t pad[64];
  memset(pad, 0x36, 64);
  for (size_t i = 0; i < klen; i++) pad[i] ^= key[i];
  SHA1_Init(&k->hi);
  SHA1_Update(&k->hi, pad, 64);
  memset(pad, 0x5c, 64);
  for (size_t i = 0; i < klen; i++) pad[i] ^= key[i];
  SHA1_Init(&k->ho);
  SHA1_Update(&k->ho, pad, 64);
  OPENSSL_cleanse(pad, sizeof pad);
}

static void hmac_sha1(const keys_t* k, const uint8_t* a, size_t alen, const uint8_t* b, size_t blen, uint8_t out[20]) {
  SHA_CTX c = k->hi;
  uint8_t ih[20];
  SHA1_Update(&c, a, alen);
  if (blen) SHA1_Update(&c, b, blen);
  SHA1_Final(ih, &c);
  c = k->ho;
  SHA1_Update(&c, ih, 20);
  SHA1_Final(out, &c);
}

static void keys_free(keys_t* k) {
  EVP_CIPHER_CTX_free(k->enc);
  EVP_CIPHER_CTX_free(k->dec);
  k->enc = k->dec = NULL;
  OPENSSL_cleanse(k, sizeof *k);
}

// Keys one direction for RTP (label base 0) or RTCP (base 3) from session keys.
static int keys_init_session(keys_t* k, int profile, const uint8_t* ek, const uint8_t* salt, const uint8_t* ak) {
  memset(k, 0, sizeof *k);
  memcpy(k->salt, salt, profile == PROF_CM ? 14 : 12);
  k->enc = EVP_CIPHER_CTX_new();
  if (!k->enc) return 0;
  if (profile == PROF_CM) {
    if (!EVP_EncryptInit_ex(k->enc, EVP_aes_128_ctr(), NULL, ek, NULL)) return 0;
    hmac_setup(k, ak, 20);
  } else {
    k->dec = EVP_CIPHER_CTX_new();
    if (!k->dec) return 0;
    if (!EVP_EncryptInit_ex(k->enc, EVP_aes_128_gcm(), NULL, ek, NULL)) return 0;
    if (!EVP_DecryptInit_ex(k->dec, EVP_aes_128_gcm(), NULL, ek, NULL)) return 0;
  }
  return 1;
}

static int keys_init_master(keys_t* k, int profile, const uint8_t* mk, const uint8_t* ms, int base) {
  size_t slen = profile == PROF_CM ? 14 : 12;
  uint8_t ek[16], ak[20], salt[14];
  int ok = kdf(mk, ms, slen, base, ek, 16) && kdf(mk, ms, slen, base + 1, ak, 20) && kdf(mk, ms, slen, base + 2, salt, 14);
  ok = ok && keys_init_session(k, profile, ek, salt, ak);
  OPENSSL_cleanse(ek, sizeof ek);
  OPENSSL_cleanse(ak, sizeof ak);
  OPENSSL_cleanse(salt, sizeof salt);
  return ok;
}

static void sctx_free(sctx_t* c) {
  if (!c) return;
  keys_free(&c->tx_rtp);
  keys_free(&c->tx_rtcp);
  keys_free(&c->rx_rtp);
  keys_free(&c->rx_rtcp);
  free(c->streams);
  free(c);
}

static inline uint32_t ssrc_hash(uint32_t ssrc) { return ssrc * 0x9E3779B1u; }

static int streams_grow(sctx_t* c) {
  uint32_t ncap = c->cap ? c->cap * 2 : 16;
  stream_t* ns = calloc(ncap, sizeof *ns);
  if (!ns) return 0;
  for (uint32_t i = 0; i < c->cap; i++) {
    if (!c->streams[i].used) continue;
    uint32_t h = ssrc_hash(c->streams[i].ssrc) & (ncap - 1);
    while (ns[h].used) h = (h + 1) & (ncap - 1);
    ns[h] = c->streams[i];
  }
  free(c->streams);
  c->streams = ns;
  c->cap = ncap;
  return 1;
}

static stream_t* stream_find(sctx_t* c, uint32_t ssrc) {
  if (!c->cap) return NULL;
  uint32_t h = ssrc_hash(ssrc) & (c->cap - 1);
  while (c->streams[h].used) {
    if (c->streams[h].ssrc == ssrc) return &c->streams[h];
    h = (h + 1) & (c->cap - 1);
  }
  return NULL;
}

static stream_t* stream_get(sctx_t* c, uint32_t ssrc) {
  stream_t* s = stream_find(c, ssrc);
  if (s) return s;
  if (c->count >= MAX_STREAMS) return NULL;
  if ((c->count + 1) * 2 > c->cap && !streams_grow(c)) return NULL;
  uint32_t h = ssrc_hash(ssrc) & (c->cap - 1);
  while (c->streams[h].used) h = (h + 1) & (c->cap - 1);
  s = &c->streams[h];
  memset(s, 0, sizeof *s);
  s->used = 1;
  s->ssrc = ssrc;
  c->count++;
  return s;
}

// RFC 3711 appendix A: the index of `seq` relative to the highest index seen.
static inline uint64_t guess_index(uint64_t high, uint16_t seq) {
  uint32_t roc = (uint32_t)(high >> 16);
  uint16_t s_l = (uint16_t)high;
  int64_t v = roc;
  if (s_l < 32768) {
    if ((int)seq - (int)s_l > 32768) v = (int64_t)roc - 1;
  } else {
    if ((int)s_l - 32768 > (int)seq) v = (int64_t)roc + 1;
  }
  if (v < 0) v = 0;
  if (v > 0xffffffffLL) v = 0xffffffffLL;
  return ((uint64_t)v << 16) | seq;
}

static inline int replay_check(int init, uint64_t high, uint64_t win, uint64_t idx) {
  if (!init || idx > high) return 0;
  uint64_t d = high - idx;
  if (d >= 64) return 1;
  return (int)((win >> d) & 1);
}

static inline void replay_update(uint8_t* init, uint64_t* high, uint64_t* win, uint64_t idx) {
  if (!*init) {
    *init = 1;
    *high = idx;
    *win = 1;
  } else if (idx > *high) {
    uint64_t d = idx - *high;
    *win = d >= 64 ? 1 : ((*win << d) | 1);
    *high = idx;
  } else {
    *win |= (uint64_t)1 << (*high - idx);
  }
}

// Length of the RTP header (fixed part, CSRCs, extension), or -1.
static inline int rtp_header_len(const uint8_t* p, size_t len) {
  if (len < 12 || (p[0] >> 6) != 2) return -1;
  size_t hl = 12 + 4 * (size_t)(p[0] & 15);
  if (p[0] & 0x10) {
    if (len < hl + 4) return -1;
    hl += 4 + 4 * (size_t)be16(p + hl + 2);
  }
  if (hl > len) return -1;
  return (int)hl;
}

static inline void cm_iv(uint8_t iv[16], const uint8_t salt[14], uint32_t ssrc, uint64_t idx) {
  memcpy(iv, salt, 14);
  iv[14] = iv[15] = 0;
  iv[4] ^= (uint8_t)(ssrc >> 24);
  iv[5] ^= (uint8_t)(ssrc >> 16);
  iv[6] ^= (uint8_t)(ssrc >> 8);
  iv[7] ^= (uint8_t)ssrc;
  for (int i = 0; i < 6; i++) iv[13 - i] ^= (uint8_t)(idx >> (8 * i));
}

static inline void gcm_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint32_t a, uint16_t b, int rtcp) {
  // RTP: 00 00 | SSRC | ROC | SEQ;  RTCP: 00 00 | SSRC | 00 00 | index (a)
  uint8_t raw[12] = {0};
  put32(raw + 2, ssrc);
  if (rtcp) {
    put32(raw + 8, a);
  } else {
    put32(raw + 6, a);
    raw[10] = (uint8_t)(b >> 8);
    raw[11] = (uint8_t)b;
  }
  for (int i = 0; i < 12; i++) iv[i] = raw[i] ^ salt[i];
}

static inline int ctr_xor(EVP_CIPHER_CTX* c, const uint8_t iv[16], uint8_t* p, size_t n) {
  int outl;
  if (!EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv)) return 0;
  if (n && !EVP_EncryptUpdate(c, p, &outl, p, (int)n)) return 0;
  return 1;
}

static int srtp_protect(sctx_t* c, uint8_t* p, size_t len, size_t room) {
  int hl = rtp_header_len(p, len);
  if (hl < 0) return E_MALFORMED;
  size_t tag = c->profile == PROF_CM ? CM_TAG : GCM_TAG;
  if (room < len + tag) return E_NO_ROOM;
  uint32_t ssrc = be32(p + 8);
  uint16_t seq = be16(p + 2);
  stream_t* st = stream_get(c, ssrc);
  if (!st) return E_MALFORMED;
  uint64_t idx;
  if (!st->tx_init) {
    st->tx_init = 1;
    st->tx_high = idx = seq;
  } else {
    idx = guess_index(st->tx_high, seq);
    if (idx > st->tx_high) st->tx_high = idx;
  }
  uint32_t roc = (uint32_t)(idx >> 16);
  keys_t* k = &c->tx_rtp;
  if (c->profile == PROF_CM) {
    uint8_t iv[16], mac[20], rb[4];
    cm_iv(iv, k->salt, ssrc, idx);
    if (!ctr_xor(k->enc, iv, p + hl, len - (size_t)hl)) return E_MALFORMED;
    put32(rb, roc);
    hmac_sha1(k, p, len, rb, 4, mac);
    memcpy(p + len, mac, CM_TAG);
  } else {
    uint8_t iv[12];
    int outl;
    gcm_iv(iv, k->salt, ssrc, roc, seq, 0);
    if (!EVP_EncryptInit_ex(k->enc, NULL, NULL, NULL, iv) || !EVP_EncryptUpdate(k->enc, NULL, &outl, p, hl)) return E_MALFORMED;
    if (len > (size_t)hl && !EVP_EncryptUpdate(k->enc, p + hl, &outl, p + hl, (int)(len - (size_t)hl))) return E_MALFORMED;
    if (!EVP_EncryptFinal_ex(k->enc, p + len, &outl) ||
        !EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_GCM_GET_TAG, GCM_TAG, p + len))
      return E_MALFORMED;
  }
  return (int)(len + tag);
}

static int srtp_unprotect(table_t* t, sctx_t* c, uint8_t* p, size_t len) {
  size_t tag = c->profile == PROF_CM ? CM_TAG : GCM_TAG;
  if (len < 12 + tag) return E_MALFORMED;
  size_t body = len - tag;
  int hl = rtp_header_len(p, body);
  if (hl < 0) return E_MALFORMED;
  uint32_t ssrc = be32(p + 8);
  uint16_t seq = be16(p + 2);
  stream_t* st = stream_find(c, ssrc);
  int init = st && st->rx_init;
  uint64_t idx = init ? guess_index(st->rx_high, seq) : seq;
  if (init && replay_check(1, st->rx_high, st->rx_win, idx)) {
    t->n_replay++;
    return E_REPLAY;
  }
  uint32_t roc = (uint32_t)(idx >> 16);
  keys_t* k = &c->rx_rtp;
  if (c->profile == PROF_CM) {
    uint8_t iv[16], mac[20], rb[4];
    put32(rb, roc);
    hmac_sha1(k, p, body, rb, 4, mac);
    if (CRYPTO_memcmp(mac, p + body, CM_TAG) != 0) {
      t->n_auth++;
      return E_AUTH;
    }
    cm_iv(iv, k->salt, ssrc, idx);
    if (!ctr_xor(k->enc, iv, p + hl, body - (size_t)hl)) return E_MALFORMED;
  } else {
    uint8_t iv[12], scratch[16];
    int outl;
    gcm_iv(iv, k->salt, ssrc, roc, seq, 0);
    if (!EVP_DecryptInit_ex(k->dec, NULL, NULL, NULL, iv) ||
        !EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_GCM_SET_TAG, GCM_TAG, p + body) ||
        !EVP_DecryptUpdate(k->dec, NULL, &outl, p, hl))
      return E_MALFORMED;
    if (body > (size_t)hl && !EVP_DecryptUpdate(k->dec, p + hl, &outl, p + hl, (int)(body - (size_t)hl))) return E_MALFORMED;
    if (EVP_DecryptFinal_ex(k->dec, scratch, &outl) <= 0) {
      t->n_auth++;
      return E_AUTH;
    }
  }
  if (!st) st = stream_get(c, ssrc);
  if (st) replay_update(&st->rx_init, &st->rx_high, &st->rx_win, idx);
  return (int)body;
}

static int srtcp_protect(sctx_t* c, uint8_t* p, size_t len, size_t room) {
  if (len < 8 || (p[0] >> 6) != 2) return E_MALFORMED;
  size_t extra = 4 + (c->profile == PROF_CM ? CM_TAG : GCM_TAG);
  if (room < len + extra) return E_NO_ROOM;
  uint32_t ssrc = be32(p + 4);
  stream_t* st = stream_get(c, ssrc);
  if (!st) return E_MALFORMED;
  st->tx_rtcp = (st->tx_rtcp + 1) & 0x7fffffffu;
  uint32_t idx = st->tx_rtcp;
  uint8_t trailer[4];
  put32(trailer, 0x80000000u | idx);
  keys_t* k = &c->tx_rtcp;
  if (c->profile == PROF_CM) {
    uint8_t iv[16], mac[20];
    cm_iv(iv, k->salt, ssrc, idx);
    if (!ctr_xor(k->enc, iv, p + 8, len - 8)) return E_MALFORMED;
    memcpy(p + len, trailer, 4);
    hmac_sha1(k, p, len + 4, NULL, 0, mac);
    memcpy(p + len + 4, mac, CM_TAG);
  } else {
    uint8_t iv[12];
    int outl;
    gcm_iv(iv, k->salt, ssrc, idx, 0, 1);
    if (!EVP_EncryptInit_ex(k->enc, NULL, NULL, NULL, iv) || !EVP_EncryptUpdate(k->enc, NULL, &outl, p, 8) ||
        !EVP_EncryptUpdate(k->enc, NULL, &outl, trailer, 4))
      return E_MALFORMED;
    if (len > 8 && !EVP_EncryptUpdate(k->enc, p + 8, &outl, p + 8, (int)(len - 8))) return E_MALFORMED;
    if (!EVP_EncryptFinal_ex(k->enc, p + len, &outl) ||
        !EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_GCM_GET_TAG, GCM_TAG, p + len))
      return E_MALFORMED;
    memcpy(p + len + GCM_TAG, trailer, 4);
  }
  return (int)(len + extra);
}

static int srtcp_unprotect(table_t* t, sctx_t* c, uint8_t* p, size_t len) {
  size_t tag = c->profile == PROF_CM ? CM_TAG : GCM_TAG;
  if (len < 8 + 4 + tag || (p[0] >> 6) != 2) return E_MALFORMED;
  uint32_t ssrc = be32(p + 4);
  // CM: ... | E+index | tag      GCM: ... | tag | E+index
  const uint8_t* trailer = c->profile == PROF_CM ? p + len - tag - 4 : p + len - 4;
  uint32_t tv = be32(trailer);
  int encrypted = (tv >> 31) != 0;
  uint32_t idx = tv & 0x7fffffffu;
  size_t body = len - 4 - tag;  // end of the (encrypted) RTCP
  stream_t* st = stream_find(c, ssrc);
  if (st && replay_check(st->rxc_init, st->rxc_high, st->rxc_win, idx)) {
    t->n_replay++;
    return E_REPLAY;
  }
  keys_t* k = &c->rx_rtcp;
  if (c->profile == PROF_CM) {
    uint8_t iv[16], mac[20];
    hmac_sha1(k, p, len - tag, NULL, 0, mac);
    if (CRYPTO_memcmp(mac, p + len - tag, CM_TAG) != 0) {
      t->n_auth++;
      return E_AUTH;
    }
    if (encrypted) {
      cm_iv(iv, k->salt, ssrc, idx);
      if (!ctr_xor(k->enc, iv, p + 8, body - 8)) return E_MALFORMED;
    }
  } else {
    uint8_t iv[12], scratch[16], tr[4];
    int outl;
    memcpy(tr, trailer, 4);
    gcm_iv(iv, k->salt, ssrc, idx, 0, 1);
    if (!EVP_DecryptInit_ex(k->dec, NULL, NULL, NULL, iv) ||
        !EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_GCM_SET_TAG, GCM_TAG, p + body))
      return E_MALFORMED;
    if (encrypted) {
      if (!EVP_DecryptUpdate(k->dec, NULL, &outl, p, 8) || !EVP_DecryptUpdate(k->dec, NULL, &outl, tr, 4)) return E_MALFORMED;
      if (body > 8 && !EVP_DecryptUpdate(k->dec, p + 8, &outl, p + 8, (int)(body - 8))) return E_MALFORMED;
    } else {
      if (!EVP_DecryptUpdate(k->dec, NULL, &outl, p, (int)body) || !EVP_DecryptUpdate(k->dec, NULL, &outl, tr, 4))
        return E_MALFORMED;
    }
    if (EVP_DecryptFinal_ex(k->dec, scratch, &outl) <= 0) {
      t->n_auth++;
      return E_AUTH;
    }
  }
  if (!st) st = stream_get(c, ssrc);
  if (st) {
    uint64_t high = st->rxc_high;
    replay_update(&st->rxc_init, &high, &st->rxc_win, idx);
    st->rxc_high = (uint32_t)high;
  }
  return (int)body;
}

/** Marks a slot taken while its context is being built (outside the table lock). */
static sctx_t RESERVED;

static inline sctx_t* table_ctx(table_t* t, int32_t id) {
  if (id < 0 || (uint32_t)id >= t->cap) return NULL;
  sctx_t* c = t->ctx[id];
  return c == &RESERVED ? NULL : c;
}

static inline int is_rtcp(const uint8_t* p, size_t len) { return len >= 2 && p[1] >= 192 && p[1] <= 223; }

// kind: 0 protect RTP, 1 unprotect RTP, 2 protect RTCP, 3 unprotect RTCP
static int do_op(table_t* t, int kind, int32_t id, uint8_t* buf, size_t buflen, int64_t off, int64_t len) {
  sctx_t* c = table_ctx(t, id);
  if (!c) return E_NO_CONTEXT;
  if (off < 0 || len < 0 || (uint64_t)off > buflen || (uint64_t)len > buflen - (uint64_t)off) return E_MALFORMED;
  if (len > 0x3fffffff) return E_MALFORMED;
  uint8_t* p = buf + off;
  size_t room = buflen - (size_t)off;
  int r;
  switch (kind) {
    case 0: r = srtp_protect(c, p, (size_t)len, room); break;
    case 1: r = srtp_unprotect(t, c, p, (size_t)len); break;
    case 2: r = srtcp_protect(c, p, (size_t)len, room); break;
    default: r = srtcp_unprotect(t, c, p, (size_t)len); break;
  }
  if (r >= 0) {
    if (kind & 1)
      t->n_unprot++;
    else
      t->n_prot++;
  }
  return r;
}

static void table_free_contexts(table_t* t) {
  for (uint32_t i = 0; i < t->cap; i++)
    if (t->ctx[i] != &RESERVED) sctx_free(t->ctx[i]);
  free(t->ctx);
  t->ctx = NULL;
  t->cap = 0;
  t->live = 0;
}

static void table_finalize(napi_env env, void* data, void* hint) {
  table_t* t = (table_t*)data;
  table_free_contexts(t);
  t->magic = 0;
  pthread_mutex_destroy(&t->mu);
  free(t);
}

#define GET_TABLE(i)                                            \
  table_t* t = get_external(env, argv[i], MAGIC_TABLE, "SrtpTable"); \
  if (!t) return NULL;

static napi_value js_table_new(napi_env env, napi_callback_info info) {
  table_t* t = calloc(1, sizeof *t);
  if (!t) return throw_code(env, "SB_ERR_SRTP", "out of memory");
  t->magic = MAGIC_TABLE;
  pthread_mutex_init(&t->mu, NULL);
  napi_value h;
  if (napi_create_external(env, t, table_finalize, NULL, &h) != napi_ok) {
    free(t);
    return NULL;
  }
  return h;
}

// tableAdd(t, profile, localKey, localSalt, remoteKey, remoteSalt[, localAuth, remoteAuth]) -> id
// With the two auth arguments the keys are session keys (tests: RFC vectors), used for RTP and RTCP.
static napi_value js_table_add(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return NULL;
  }
  GET_TABLE(0);
  int32_t profile;
  if (!get_i32(env, argv[1], &profile) || (profile != PROF_CM && profile != PROF_GCM)) {
    napi_throw_range_error(env, NULL, "unknown SRTP profile");
    return NULL;
  }
  uint8_t *lk, *ls, *rk, *rs, *la = NULL, *ra = NULL;
  size_t lkn, lsn, rkn, rsn, lan = 0, ran = 0;
  if (!get_u8(env, argv[2], &lk, &lkn) || !get_u8(env, argv[3], &ls, &lsn) || !get_u8(env, argv[4], &rk, &rkn) ||
      !get_u8(env, argv[5], &rs, &rsn))
    return NULL;
  int raw = argc >= 8;
  if (raw && (!get_u8(env, argv[6], &la, &lan) || !get_u8(env, argv[7], &ra, &ran))) return NULL;
  size_t slen = profile == PROF_CM ? 14 : 12;
  if (lkn != 16 || rkn != 16 || lsn != slen || rsn != slen)
    return throw_code(env, "SB_ERR_SRTP", profile == PROF_CM ? "SRTP_AES128_CM_SHA1_80 needs 16-byte keys and 14-byte salts"
                                                             : "SRTP_AEAD_AES_128_GCM needs 16-byte keys and 12-byte salts");
  if (raw && profile == PROF_CM && (lan != 20 || ran != 20)) return throw_code(env, "SB_ERR_SRTP", "auth keys must be 20 bytes");
  pthread_mutex_lock(&t->mu);
  uint32_t id = 0;
  while (id < t->cap && t->ctx[id]) id++;
  if (id == t->cap) {
    if (t->cap >= MAX_CONTEXTS) {
      pthread_mutex_unlock(&t->mu);
      return throw_code(env, "SB_ERR_SRTP", "too many SRTP contexts");
    }
    uint32_t ncap = t->cap ? t->cap * 2 : 16;
    sctx_t** nc = realloc(t->ctx, ncap * sizeof *nc);
    if (!nc) {
      pthread_mutex_unlock(&t->mu);
      return throw_code(env, "SB_ERR_SRTP", "out of memory");
    }
    memset(nc + t->cap, 0, (ncap - t->cap) * sizeof *nc);
    t->ctx = nc;
    t->cap = ncap;
  }
  // reserve the slot with a placeholder while keys are set up outside the lock
  t->ctx[id] = &RESERVED;
  pthread_mutex_unlock(&t->mu);
  ERR_clear_error();
  sctx_t* c = calloc(1, sizeof *c);
  if (!c) {
    pthread_mutex_lock(&t->mu);
    t->ctx[id] = NULL;
    pthread_mutex_unlock(&t->mu);
    return throw_code(env, "SB_ERR_SRTP", "out of memory");
  }
  c->profile = profile;
  int ok;
  if (raw) {
    uint8_t salt_l[14] = {0}, salt_r[14] = {0};
    memcpy(salt_l, ls, slen);
    memcpy(salt_r, rs, slen);
    ok = keys_init_session(&c->tx_rtp, profile, lk, salt_l, la) && keys_init_session(&c->tx_rtcp, profile, lk, salt_l, la) &&
         keys_init_session(&c->rx_rtp, profile, rk, salt_r, ra) && keys_init_session(&c->rx_rtcp, profile, rk, salt_r, ra);
  } else {
    ok = keys_init_master(&c->tx_rtp, profile, lk, ls, 0) && keys_init_master(&c->tx_rtcp, profile, lk, ls, 3) &&
         keys_init_master(&c->rx_rtp, profile, rk, rs, 0) && keys_init_master(&c->rx_rtcp, profile, rk, rs, 3);
  }
  if (!ok) {
    char msg[300];
    sctx_free(c);
    pthread_mutex_lock(&t->mu);
    t->ctx[id] = NULL;
    pthread_mutex_unlock(&t->mu);
    openssl_error(msg, sizeof msg, "SRTP context setup failed");
    return throw_code(env, "SB_ERR_SRTP", msg);
  }
  pthread_mutex_lock(&t->mu);
  t->ctx[id] = c;
  t->live++;
  pthread_mutex_unlock(&t->mu);
  return make_i32(env, (int32_t)id);
}

static napi_value js_table_remove(napi_env env, napi_callback_info info) {
  ARGS(2);
  GET_TABLE(0);
  int32_t id;
  if (!get_i32(env, argv[1], &id)) return NULL;
  pthread_mutex_lock(&t->mu);
  sctx_t* c = table_ctx(t, id);
  if (c) {
    t->ctx[id] = NULL;
    t->live--;
  }
  pthread_mutex_unlock(&t->mu);
  if (c) sctx_free(c);
  return NULL;
}

static int get_i64(napi_env env, napi_value v, int64_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  double d;
  napi_get_value_double(env, v, &d);
  if (!(d >= -9e15 && d <= 9e15)) return 0;
  *out = (int64_t)d;
  return (double)*out == d;
}

// tableOp(t, kind, id, buf, off, len) -> new length or negative error
static napi_value js_table_op(napi_env env, napi_callback_info info) {
  ARGS(6);
  GET_TABLE(0);
  int32_t kind, id;
  int64_t off, len;
  uint8_t* buf;
  size_t buflen;
  if (!get_i32(env, argv[1], &kind) || !get_i32(env, argv[2], &id) || !get_u8(env, argv[3], &buf, &buflen)) {
    if (!get_i32(env, argv[2], &id)) napi_throw_type_error(env, NULL, "id must be a number");
    return NULL;
  }
  if (!get_i64(env, argv[4], &off) || !get_i64(env, argv[5], &len)) return make_i32(env, E_MALFORMED);
  pthread_mutex_lock(&t->mu);
  int r = do_op(t, kind & 3, id, buf, buflen, off, len);
  pthread_mutex_unlock(&t->mu);
  return make_i32(env, r);
}

// tableBatch(t, unprotect, buf, ops, count, stride, idWord, offWord, lenWord)
static napi_value js_table_batch(napi_env env, napi_callback_info info) {
  ARGS(9);
  GET_TABLE(0);
  bool unprot = false;
  napi_get_value_bool(env, argv[1], &unprot);
  uint8_t* buf;
  size_t buflen, opslen;
  int32_t* ops;
  if (!get_u8(env, argv[2], &buf, &buflen) || !get_i32arr(env, argv[3], &ops, &opslen)) return NULL;
  int32_t count, stride, iw, ow, lw;
  if (!get_i32(env, argv[4], &count) || !get_i32(env, argv[5], &stride) || !get_i32(env, argv[6], &iw) ||
      !get_i32(env, argv[7], &ow) || !get_i32(env, argv[8], &lw)) {
    napi_throw_type_error(env, NULL, "count, stride and word indexes must be numbers");
    return NULL;
  }
  if (count < 0 || stride < 1 || iw < 0 || ow < 0 || lw < 0 || iw >= stride || ow >= stride || lw >= stride) {
    napi_throw_range_error(env, NULL, "bad batch layout");
    return NULL;
  }
  if (count == 0) return NULL;
  if ((uint64_t)(count - 1) * (uint64_t)stride + (uint64_t)stride > (uint64_t)opslen) {
    napi_throw_range_error(env, NULL, "ops is too short for count entries");
    return NULL;
  }
  pthread_mutex_lock(&t->mu);
  for (int32_t i = 0; i < count; i++) {
    int32_t* e = ops + (size_t)i * (size_t)stride;
    int32_t id = e[iw];
    if (id < 0) continue;
    int32_t off = e[ow], len = e[lw];
    int rtcp = 0;
    if (off >= 0 && len >= 2 && (uint64_t)off + (uint64_t)len <= buflen) rtcp = is_rtcp(buf + off, (size_t)len);
    int kind = (rtcp ? 2 : 0) | (unprot ? 1 : 0);
    e[lw] = do_op(t, kind, id, buf, buflen, off, len);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

static napi_value js_table_stats(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_TABLE(0);
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "contexts", t->live);
  set_num(env, o, "protected", t->n_prot);
  set_num(env, o, "unprotected", t->n_unprot);
  set_num(env, o, "authFailures", t->n_auth);
  set_num(env, o, "replays", t->n_replay);
  return o;
}

static napi_value js_table_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_TABLE(0);
  pthread_mutex_lock(&t->mu);
  table_free_contexts(t);
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

// deriveKeys(profile, masterKey, masterSalt) -> { rtpKey, rtpSalt, rtpAuth?, rtcpKey, rtcpSalt, rtcpAuth? }
static napi_value js_derive(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t profile;
  if (!get_i32(env, argv[0], &profile) || (profile != PROF_CM && profile != PROF_GCM)) {
    napi_throw_range_error(env, NULL, "unknown SRTP profile");
    return NULL;
  }
  uint8_t *mk, *ms;
  size_t mkn, msn;
  if (!get_u8(env, argv[1], &mk, &mkn) || !get_u8(env, argv[2], &ms, &msn)) return NULL;
  size_t slen = profile == PROF_CM ? 14 : 12;
  if (mkn != 16 || msn != slen) return throw_code(env, "SB_ERR_SRTP", "bad master key or salt length");
  uint8_t out[6][20];
  static const size_t lens[2][3] = {{16, 20, 14}, {16, 0, 12}};
  static const char* names[6] = {"rtpKey", "rtpAuth", "rtpSalt", "rtcpKey", "rtcpAuth", "rtcpSalt"};
  napi_value o;
  napi_create_object(env, &o);
  for (int label = 0; label < 6; label++) {
    size_t n = lens[profile == PROF_CM ? 0 : 1][label % 3];
    if (!n) continue;
    if (!kdf(mk, ms, slen, label, out[label], n)) return throw_code(env, "SB_ERR_SRTP", "key derivation failed");
    napi_set_named_property(env, o, names[label], make_bytes(env, out[label], n));
  }
  OPENSSL_cleanse(out, sizeof out);
  return o;
}

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
static napi_value js_sender_new(napi_env env, napi_callback_info info) {
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
static napi_value js_sender_submit(napi_env env, napi_callback_info info) {
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
static napi_value js_sender_acquire(napi_env env, napi_callback_info info) {
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

static napi_value js_sender_stats(napi_env env, napi_callback_info info) {
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
static napi_value js_sender_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_SENDER(0);
  sender_stop(w);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"certGenerate", NULL, js_cert_generate, NULL, NULL, NULL, napi_default, NULL},
      {"sessionCreate", NULL, js_sess_create, NULL, NULL, NULL, napi_default, NULL},
      {"sessionStart", NULL, js_sess_start, NULL, NULL, NULL, napi_default, NULL},
      {"sessionReceive", NULL, js_sess_receive, NULL, NULL, NULL, napi_default, NULL},
      {"sessionTakeOutgoing", NULL, js_sess_take_outgoing, NULL, NULL, NULL, napi_default, NULL},
      {"sessionTakeAppData", NULL, js_sess_take_app, NULL, NULL, NULL, napi_default, NULL},
      {"sessionSend", NULL, js_sess_send, NULL, NULL, NULL, napi_default, NULL},
      {"sessionState", NULL, js_sess_state, NULL, NULL, NULL, napi_default, NULL},
      {"sessionError", NULL, js_sess_error, NULL, NULL, NULL, napi_default, NULL},
      {"sessionNextTimeout", NULL, js_sess_next_timeout, NULL, NULL, NULL, napi_default, NULL},
      {"sessionHandleTimeout", NULL, js_sess_handle_timeout, NULL, NULL, NULL, napi_default, NULL},
      {"sessionRemoteFingerprint", NULL, js_sess_remote_fp, NULL, NULL, NULL, napi_default, NULL},
      {"sessionSrtpKeys", NULL, js_sess_srtp_keys, NULL, NULL, NULL, napi_default, NULL},
      {"sessionClose", NULL, js_sess_close, NULL, NULL, NULL, napi_default, NULL},
      {"sessionDestroy", NULL, js_sess_destroy, NULL, NULL, NULL, napi_default, NULL},
      {"tableNew", NULL, js_table_new, NULL, NULL, NULL, napi_default, NULL},
      {"tableAdd", NULL, js_table_add, NULL, NULL, NULL, napi_default, NULL},
      {"tableRemove", NULL, js_table_remove, NULL, NULL, NULL, napi_default, NULL},
      {"tableOp", NULL, js_table_op, NULL, NULL, NULL, napi_default, NULL},
      {"tableBatch", NULL, js_table_batch, NULL, NULL, NULL, napi_default, NULL},
      {"tableStats", NULL, js_table_stats, NULL, NULL, NULL, napi_default, NULL},
      {"tableClose", NULL, js_table_close, NULL, NULL, NULL, napi_default, NULL},
      {"deriveKeys", NULL, js_derive, NULL, NULL, NULL, napi_default, NULL},
      {"senderNew", NULL, js_sender_new, NULL, NULL, NULL, napi_default, NULL},
      {"senderSubmit", NULL, js_sender_submit, NULL, NULL, NULL, napi_default, NULL},
      {"senderAcquire", NULL, js_sender_acquire, NULL, NULL, NULL, napi_default, NULL},
      {"senderStats", NULL, js_sender_stats, NULL, NULL, NULL, napi_default, NULL},
      {"senderClose", NULL, js_sender_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
