// The dtls_srtp addon: the functions src/index.ts calls.
#include "dtls_srtp.h"

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
