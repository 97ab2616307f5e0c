"""The generic registry over the store: the resource table and per-kind strategies, storage
(compare-and-swap writes), the watch caches, request options, admission, schemas and tables."""
