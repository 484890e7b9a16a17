{
  "targets": [
    {
      "target_name": "netio",
      "sources": ["native/netio.c"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
