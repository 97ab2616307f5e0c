"""The three PATCH bodies kube-apiserver accepts, applied to decoded JSON objects.

- `json_merge_patch(target, patch)`            application/merge-patch+json (RFC 7386), mergepatch.py
- `json_patch(target, ops)`                    application/json-patch+json (RFC 6902, atomic), jsonpatch.py
- `strategic_merge_patch(target, patch, kind)` application/strategic-merge-patch+json, strategic.py

None of them mutates its inputs; each returns a fresh object that shares nothing with them, so the
caller may default or validate it in place. Failures raise `PatchError` carrying the HTTP code
kube-apiserver would answer (400 for a malformed patch, 422 for one that does not apply).
"""
from .common import PatchError, deep_copy, go_format, json_equal
from .jsonpatch import json_patch
from .mergepatch import json_merge_patch
from .strategic import PatchMeta, schema_for, strategic_merge_patch

__all__ = ["PatchError", "PatchMeta", "deep_copy", "go_format", "json_equal", "json_merge_patch", "json_patch",
           "schema_for", "strategic_merge_patch"]
