"""The simulated registry: the embedded cluster's image catalogue over the OCI distribution API."""
