"""The garbage collector: the ownerReferences graph over every resource (graph.py, pure) and the
controller that deletes dependents whose owners are gone, in background, foreground or orphan mode."""
