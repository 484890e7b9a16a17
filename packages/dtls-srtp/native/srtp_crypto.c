// SRTP and SRTCP (RFC 3711, RFC 7714): key derivation, the AES-CM + HMAC-SHA1-80 and AES-GCM
// transforms, per-SSRC rollover counters and replay windows. Nothing here allocates per packet.
#include "dtls_srtp.h"

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
int keys_init_session(keys_t* k, int profile, const uint8_t* ek, const uint8_t* salt, const uint8_t* ak) {
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

int keys_init_master(keys_t* k, int profile, const uint8_t* mk, const uint8_t* ms, int base) {
  size_t slen = profile == PROF_CM ? 14 : 12;
  uint8_t ek[16], ak[20], salt[14];
  int ok = kdf(mk, ms, slen, base, ek, 16) && kdf(mk, ms, slen, base + 1, ak, 20) && kdf(mk, ms, slen, base + 2, salt, 14);
  ok = ok && keys_init_session(k, profile, ek, salt, ak);
  OPENSSL_cleanse(ek, sizeof ek);
  OPENSSL_cleanse(ak, sizeof ak);
  OPENSSL_cleanse(salt, sizeof salt);
  return ok;
}

void sctx_free(sctx_t* c) {
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

int srtp_protect(sctx_t* c, uint8_t* p, size_t len, size_t room) {
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

int srtp_unprotect(table_t* t, sctx_t* c, uint8_t* p, size_t len) {
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

int srtcp_protect(sctx_t* c, uint8_t* p, size_t len, size_t room) {
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

int srtcp_unprotect(table_t* t, sctx_t* c, uint8_t* p, size_t len) {
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


// deriveKeys(profile, masterKey, masterSalt) -> { rtpKey, rtpSalt, rtpAuth?, rtcpKey, rtcpSalt, rtcpAuth? }
napi_value js_derive(napi_env env, napi_callback_info info) {
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
