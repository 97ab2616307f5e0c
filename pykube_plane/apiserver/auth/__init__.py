"""Who may do what: authentication (bearer tokens, x509 client certificates), RBAC
authorization and its bootstrap policy, access reviews, and the cluster's PKI."""
