"""The Kubernetes API server: the only component that touches the store."""
