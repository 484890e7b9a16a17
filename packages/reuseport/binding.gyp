{
  "targets": [
    {
      "target_name": "reuseport",
      "sources": ["native/reuseport.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
