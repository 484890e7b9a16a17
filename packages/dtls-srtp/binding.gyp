{
  "targets": [
    {
      "target_name": "dtls_srtp",
      "sources": ["native/dtls_srtp.c"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
