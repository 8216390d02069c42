"""Starts the Demo ID provider for `loyalty-social dev`, in a process of its own that ends
when `dev` does (it watches its parent, so even a killed server leaves no orphan)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

PROVIDER = "loyalty_social.demo.provider"


class DemoUnavailable(RuntimeError):
    """The provider could not start; the message says why."""


def start_provider() -> str | None:
    """The provider's URL, or None when oidc-provider-mock (the `demo` extra) is missing."""
    if importlib.util.find_spec("oidc_provider_mock") is None:
        return None
    process = subprocess.Popen(  # noqa: S603 - our own module, this interpreter
        [sys.executable, "-m", PROVIDER, "--exit-with-parent"],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = process.stdout.readline().strip()  # its first line, once it listens
    process.stdout.close()
    if not url.startswith("http://"):
        process.wait()
        raise DemoUnavailable("the Demo ID provider did not start (its error is above)")
    return url
