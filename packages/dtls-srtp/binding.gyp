{
  "targets": [
    {
      "target_name": "dtls_srtp",
      "sources": ["native/addon.c", "native/cert.c", "native/dtls.c", "native/srtp_crypto.c", "native/srtp_table.c", "native/sender.c"],
      "include_dirs": ["<!(node -p \"require('@switchboard/napi-util').include\")"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
