"""The reference regional server: receives the cars' reads, serves hotlists.

`alpr regional serve` runs it; `pki.py` makes the certificates it and the cars
use; `linksim.py` is a loopback cellular-link simulator for tests and benches.
"""
