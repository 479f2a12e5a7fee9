"""`manage.py opf_sandbox`: the OPF sandbox's own command line, for those who look here first."""

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the OPF sandbox (a stand-in OPF + Keycloak token endpoint for the demo and tests). "
        "Same options as `python -m entitlements.opf_sandbox --help`."
    )

    def run_from_argv(self, argv):
        # Hand every option to the sandbox's parser; the portal imports it only here.
        from entitlements.opf_sandbox.__main__ import main

        sys.exit(main(argv[2:]))
