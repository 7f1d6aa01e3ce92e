"""Real external parts for tests, started per test under a temporary directory:

- ocilayout.py: a small OCI image written by hand (stdlib only), no internet needed;
- registry.py: Debian's `docker-registry` on 127.0.0.1 (plain HTTP, or TLS with Basic or Bearer auth),
  and `skopeo copy` into it: the one registry of every test;
- containerd.py: Debian's `containerd` as a private process (own root, state and socket) whose CRI
  pulls from that registry.

Each raises `Unavailable` (with the reason) when its part is missing or cannot start; fixtures
turn that into a skip.
"""


class Unavailable(RuntimeError):
    """A real part cannot run on this machine; the message says why (the test skips with it)."""
