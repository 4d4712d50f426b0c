{
  "targets": [
    {
      "target_name": "sockit",
      "sources": ["src/stack/native/sockit.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
