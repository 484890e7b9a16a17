// The SRTP context table: contexts addressed by small ids, added and removed from JS, and
// protect/unprotect one packet or a whole batch in one call, under the table lock.
#include "dtls_srtp.h"

/** Marks a slot taken while its context is being built (outside the table lock). */
static sctx_t RESERVED;

static inline sctx_t* table_ctx(table_t* t, int32_t id) {
  if (id < 0 || (uint32_t)id >= t->cap) return NULL;
  sctx_t* c = t->ctx[id];
  return c == &RESERVED ? NULL : c;
}


// kind: 0 protect RTP, 1 unprotect RTP, 2 protect RTCP, 3 unprotect RTCP
int do_op(table_t* t, int kind, int32_t id, uint8_t* buf, size_t buflen, int64_t off, int64_t len) {
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


napi_value js_table_new(napi_env env, napi_callback_info info) {
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
napi_value js_table_add(napi_env env, napi_callback_info info) {
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

napi_value js_table_remove(napi_env env, napi_callback_info info) {
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

napi_value js_table_op(napi_env env, napi_callback_info info) {
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
napi_value js_table_batch(napi_env env, napi_callback_info info) {
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

napi_value js_table_stats(napi_env env, napi_callback_info info) {
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

napi_value js_table_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  GET_TABLE(0);
  pthread_mutex_lock(&t->mu);
  table_free_contexts(t);
  pthread_mutex_unlock(&t->mu);
  return NULL;
}
