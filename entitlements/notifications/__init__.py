"""OPF's notifications to the portal: signature check (signatures) and payload (payload).

The endpoint is entitlements.views.opf_notification; the effects live in
entitlements.services.apply_notification. The contract is docs/notifications.md.
"""
