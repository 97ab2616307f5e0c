"""Object helpers every component shares: names, quantities, selectors, patches, defaults, validation.

Pure functions over plain JSON-shaped dicts (what orjson decodes), no I/O, no clock except
`meta.now_rfc3339`. Modules:

- `names`         name and key formats (DNS-1123, label keys/values, ports, env names)
- `kinds`         the kinds served: group, namespaced or not, name rule
- `quantity`      resource quantities, exact (`Quantity`, `parse_quantity`)
- `labels`        label selectors (`parse_selector`, `selector_from_label_selector`)
- `fields`        field selectors and the selectable fields of each kind
- `patch/`        JSON merge patch, JSON patch, strategic merge patch (one module each)
- `meta`          uid, timestamps, generateName, owner references, keys
- `defaults/`     `apply_defaults(kind, obj)` as kube-apiserver defaults v1 objects; `qos_class`
                  (pods, workloads, other kinds, qos: one module each)
- `fielderrors`   `FieldError` and the Status texts (`invalid_message`, `causes`)
- `validators`    field rules shared by the kinds (labels, selectors, quantities, resource names)
- `validation/`   `validate(kind, obj, old)` returning k8s field errors; one module per API group
                  (core, apps, batch, coordination, rbac, scheduling), the pod spec in podspec,
                  containers, volumes, podscheduling
- `users`         `UserInfo`, the identity every layer shares
- `localcall`     the shape of an in-process API call (`LocalRequest`, `LocalResponse`)
- `watchevents`   watch event types (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR)
- `jsoncopy`      `copy_json`, a fast deep copy of JSON-shaped data
- `objects`       pod resource sums the scheduler reuses
"""
