"""Buildbucket as cvsite's tryjob backend (reference/buildbucket.md).

`messages` builds the requests and reads builds (pure); `client` talks pRPC to a host with the
project's credentials; `backend` is the `TryjobBackend` (launch, cancel, fetch, reuse search);
`pubsub` decodes pushed notifications and `push` stores them; `poller` catches what the
notifications missed; `fake_server` is a Buildbucket on 127.0.0.1 for tests and `make run`.
"""
