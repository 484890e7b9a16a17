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
//
// Files: cert.c (certificates), dtls.c (DTLS sessions), srtp_crypto.c (SRTP/SRTCP keys,
// protect and unprotect), srtp_table.c (the context table and batch operations), sender.c (the
// send thread), addon.c (the module's functions). They build one addon, dtls_srtp.node.
#ifndef SB_DTLS_SRTP_H
#define SB_DTLS_SRTP_H

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
#include <stdbool.h>
#include "sb_napi.h"

#define MAGIC_CERT 0x43455254u
#define MAGIC_SESS 0x53455353u
#define MAGIC_TABLE 0x5441424cu

// ================= Certificate (cert.c) =================

typedef struct {
  uint32_t magic;
  X509* x509;
  EVP_PKEY* pkey;
  char fp[100];
} cert_t;

void fingerprint_of(X509* x, char* out /* >= 96 */);
/** The first queued OpenSSL error, prefixed, into buf (and clears the queue). */
void openssl_error(char* buf, size_t n, const char* prefix);

// ================= SRTP (srtp_crypto.c, srtp_table.c) =================
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

int keys_init_session(keys_t* k, int profile, const uint8_t* ek, const uint8_t* salt, const uint8_t* ak);
int keys_init_master(keys_t* k, int profile, const uint8_t* mk, const uint8_t* ms, int base);
void sctx_free(sctx_t* c);
int srtp_protect(sctx_t* c, uint8_t* p, size_t len, size_t room);
int srtp_unprotect(table_t* t, sctx_t* c, uint8_t* p, size_t len);
int srtcp_protect(sctx_t* c, uint8_t* p, size_t len, size_t room);
int srtcp_unprotect(table_t* t, sctx_t* c, uint8_t* p, size_t len);

static inline int is_rtcp(const uint8_t* p, size_t len) { return len >= 2 && p[1] >= 192 && p[1] <= 223; }

/** One protect/unprotect on context `id`, under the caller's table lock. kind: 0 protect RTP, 1 unprotect RTP, 2 protect RTCP, 3 unprotect RTCP. */
int do_op(table_t* t, int kind, int32_t id, uint8_t* buf, size_t buflen, int64_t off, int64_t len);

#define GET_TABLE(i)                                            \
  table_t* t = get_external(env, argv[i], MAGIC_TABLE, "SrtpTable"); \
  if (!t) return NULL;

// ================= The module's functions (addon.c registers them) =================

napi_value js_cert_generate(napi_env env, napi_callback_info info);
napi_value js_sess_create(napi_env env, napi_callback_info info);
napi_value js_sess_start(napi_env env, napi_callback_info info);
napi_value js_sess_receive(napi_env env, napi_callback_info info);
napi_value js_sess_take_outgoing(napi_env env, napi_callback_info info);
napi_value js_sess_take_app(napi_env env, napi_callback_info info);
napi_value js_sess_send(napi_env env, napi_callback_info info);
napi_value js_sess_state(napi_env env, napi_callback_info info);
napi_value js_sess_error(napi_env env, napi_callback_info info);
napi_value js_sess_next_timeout(napi_env env, napi_callback_info info);
napi_value js_sess_handle_timeout(napi_env env, napi_callback_info info);
napi_value js_sess_remote_fp(napi_env env, napi_callback_info info);
napi_value js_sess_srtp_keys(napi_env env, napi_callback_info info);
napi_value js_sess_close(napi_env env, napi_callback_info info);
napi_value js_sess_destroy(napi_env env, napi_callback_info info);
napi_value js_table_new(napi_env env, napi_callback_info info);
napi_value js_table_add(napi_env env, napi_callback_info info);
napi_value js_table_remove(napi_env env, napi_callback_info info);
napi_value js_table_op(napi_env env, napi_callback_info info);
napi_value js_table_batch(napi_env env, napi_callback_info info);
napi_value js_table_stats(napi_env env, napi_callback_info info);
napi_value js_table_close(napi_env env, napi_callback_info info);
napi_value js_derive(napi_env env, napi_callback_info info);
napi_value js_sender_new(napi_env env, napi_callback_info info);
napi_value js_sender_submit(napi_env env, napi_callback_info info);
napi_value js_sender_acquire(napi_env env, napi_callback_info info);
napi_value js_sender_stats(napi_env env, napi_callback_info info);
napi_value js_sender_close(napi_env env, napi_callback_info info);

#endif
