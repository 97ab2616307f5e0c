"""The HTTP face: aiohttp app and routes (web, routing), content negotiation (JSON, YAML,
protobuf, Table), discovery and OpenAPI documents, Prometheus metrics. Turns requests into
`handlers.APIRequest`s and answers back into bytes; no storage rules here."""
