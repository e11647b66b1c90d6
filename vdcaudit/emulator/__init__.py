"""Local HTTPS emulators of the services vdcaudit reads, for tests, benchmarks and trying the tool
without an account.

- `httpserver`: the generic part — a TLS server on 127.0.0.1 with a throw-away certificate, a
  route table, per-route fault injection and a request log. Reused by every emulator.
- `arm`: Azure Resource Manager (ARM REST paths, nextLink paging, Resource Graph, subscriptions,
  management groups) serving a fixture tenant of snapshot files.
"""
