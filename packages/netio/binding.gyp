{
  "targets": [
    {
      "target_name": "netio",
      "sources": ["native/netio.c"],
      "include_dirs": ["<!(node -p \"require('@switchboard/napi-util').include\")"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
