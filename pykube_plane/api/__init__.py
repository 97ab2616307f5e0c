"""Object helpers every component shares: names, quantities, selectors, patches, defaults, validation.

Pure functions over plain JSON-shaped dicts (what orjson decodes), no I/O, no clock except
`meta.now_rfc3339`. Modules:

- `names`       name and key formats (DNS-1123, label keys/values, ports, env names)
- `quantity`    resource quantities, exact (`Quantity`, `parse_quantity`)
- `labels`      label selectors (`parse_selector`, `selector_from_label_selector`)
- `fields`      field selectors and the selectable fields of each kind
- `patch`       JSON merge patch, JSON patch, strategic merge patch
- `meta`        uid, timestamps, generateName, owner references
- `kinds`       the kinds served: group, namespaced or not
- `defaults`    `apply_defaults(kind, obj)` as kube-apiserver defaults v1 objects; `qos_class`
- `validation`  `validate(kind, obj, old)` returning k8s field errors; Status texts
- `objects`     pod resource sums the scheduler reuses
"""
