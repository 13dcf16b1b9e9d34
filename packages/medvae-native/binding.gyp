{
  "targets": [
    {
      "target_name": "medvae_native",
      "sources": ["src/addon.c", "src/kernels.c", "src/kernels3d.c"],
      "include_dirs": ["<!(node scripts/find-openblas.cjs include)"],
      "defines": ["<!(node scripts/find-openblas.cjs defines)"],
      "libraries": ["<!@(node scripts/find-openblas.cjs libraries)"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,--exclude-libs,ALL"]
    }
  ]
}
