{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
