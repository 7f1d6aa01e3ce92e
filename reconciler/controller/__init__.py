"""The controller daemon behind `edgefleet run`: it schedules `cycle.sync_once` and wires git
(polling, webhooks), cluster watches, Lease leader election and the HTTP endpoints to it.
`daemon.Controller` is the entry point."""
