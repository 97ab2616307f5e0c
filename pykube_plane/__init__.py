"""pykube-plane: a Kubernetes control plane in Python with a Cython-compiled core."""
__version__ = "0.1.0"
