// N-API helpers shared by Switchboard's native addons (@switchboard/netio, @switchboard/dtls-srtp):
// coded errors, argument reading with type checks, and small value makers. Header only: every
// function is static inline, so each addon compiles its own copy and links nothing.
#ifndef SB_NAPI_H
#define SB_NAPI_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/** An Error with `message` and `code` (e.g. SB_ERR_SRTP), not thrown yet. */
static inline napi_value make_error(napi_env env, const char* code, const char* msg) {
  napi_value m, c, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  return e;
}

/** Throws an Error with a code; returns NULL, so `return throw_code(...)` ends a callback. */
static inline napi_value throw_code(napi_env env, const char* code, const char* msg) {
  napi_throw(env, make_error(env, code, msg));
  return NULL;
}

static inline void* get_external(napi_env env, napi_value v, uint32_t magic, const char* what) {
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

static inline int get_i32(napi_env env, napi_value v, int32_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

/** The data of a typed array of `want` type; returns 0 and throws a TypeError (`expected`) if v is not one. */
static inline int get_typed(napi_env env, napi_value v, napi_typedarray_type want, const char* expected, void** data, size_t* len) {
  bool is;
  napi_typedarray_type type;
  size_t length, off;
  void* p;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &length, &p, &ab, &off) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, expected);
    return 0;
  }
  *data = p;
  *len = length;
  return 1;
}

/** Uint8Array (or Buffer) bytes; returns 0 and throws if v is not one. */
static inline int get_u8(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  return get_typed(env, v, napi_uint8_array, "expected a Uint8Array", (void**)data, len);
}

static inline int get_i32arr(napi_env env, napi_value v, int32_t** data, size_t* len) {
  return get_typed(env, v, napi_int32_array, "expected an Int32Array", (void**)data, len);
}

static inline napi_value make_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static inline napi_value make_bytes(napi_env env, const uint8_t* p, size_t n) {
  napi_value ab, r;
  void* data;
  napi_create_arraybuffer(env, n, &data, &ab);
  if (n) memcpy(data, p, n);
  napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &r);
  return r;
}

static inline napi_value make_str(napi_env env, const char* s) {
  napi_value r;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

static inline void set_num(napi_env env, napi_value o, const char* k, double v) {
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

static inline int get_i64(napi_env env, napi_value v, int64_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  double d;
  napi_get_value_double(env, v, &d);
  if (!(d >= -9e15 && d <= 9e15)) return 0;
  *out = (int64_t)d;
  return (double)*out == d;
}

#endif
