"""A stand-in for NAGRA OPF's TPES changeProduct API and its Keycloak token endpoint.

Stdlib only and free of Django: the demo and the tests start it as a separate server, and the
portal never imports it at run time. Start with `python -m entitlements.opf_sandbox` or
`entitlements.opf_sandbox.server.Sandbox`; see README.md.
"""
