"""The Kubernetes API server: the only component that touches the store.

- `server`    `APIServer`: registry + handlers + HTTP face + local entry point, started as one
- `handlers`  `APIRequest` -> authorization -> registry (both HTTP and in-process calls)
- `local`     the local entry point `InProcessClient` calls (plain dicts and events)
- `bootstrap` the objects a fresh cluster starts with
- `status`    metav1.Status errors every layer of the server raises
- `http/`     the aiohttp face; `auth/` authentication, RBAC, PKI; `registry/` storage, caches,
  strategies
"""
