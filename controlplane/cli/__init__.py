"""The `cox` command (kubectl's room, plus the k3s-style `cox server`/`cox agent`)."""
