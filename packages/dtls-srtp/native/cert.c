// Self-signed ECDSA P-256 certificates for DTLS and their SHA-256 fingerprints (RFC 8122).
#include "dtls_srtp.h"

void fingerprint_of(X509* x, char* out /* >= 96 */) {
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

void openssl_error(char* buf, size_t n, const char* prefix) {
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



static void cert_finalize(napi_env env, void* data, void* hint) {
  cert_t* c = (cert_t*)data;
  X509_free(c->x509);
  EVP_PKEY_free(c->pkey);
  c->magic = 0;
  free(c);
}

// certGenerate() -> { handle, fingerprint }
napi_value js_cert_generate(napi_env env, napi_callback_info info) {
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
