"""The embedded default's demo (development only): seeded data, the "Demo ID" OpenID Connect
provider, and the loyalty portal's part of the hand-off, so `make run` shows the whole product."""
